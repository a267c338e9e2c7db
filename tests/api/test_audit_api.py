"""The audit log over the API: admins and managers, their tenant's events only, filters."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from tests.api.conftest import error_of

EVENTS = "/api/v1/audit-events/"


@pytest.mark.parametrize("role", ["admin", "manager"])
def test_admins_and_managers_read_their_tenants_events(role, api_as, records, other_records):
    client = api_as(role)
    customer = records.customer()
    other_records.customer()
    rows = client.get(EVENTS, {"page_size": 200}).json()["results"]
    assert rows
    assert {row["id"] for row in rows} == set(
        AuditEvent.objects.filter(tenant=records.tenant).values_list("pk", flat=True)
    )
    assert any(row["object_id"] == str(customer.pk) and row["action"] == "create" for row in rows)
    event = rows[0]
    assert client.get(f"{EVENTS}{event['id']}/").json() == event


@pytest.mark.parametrize("role", ["rep", "support", "viewer"])
def test_other_roles_may_not(role, api_as, records):
    client = api_as(role)
    event = AuditEvent.objects.filter(tenant=records.tenant).first()
    error_of(client.get(EVENTS), 403)
    error_of(client.get(f"{EVENTS}{event.pk}/"), 403)


def test_another_tenants_event_is_404(api, other_records):
    other_records.customer()
    theirs = AuditEvent.objects.filter(tenant=other_records.tenant).first()
    error_of(api.get(f"{EVENTS}{theirs.pk}/"), 404)


def test_filters(api, records):
    customer = records.customer()
    records.customer()
    rows = api.get(EVENTS, {"object_type": "customer", "object_id": str(customer.pk), "action": "create"}).json()
    assert [row["object_id"] for row in rows["results"]] == [str(customer.pk)]
    assert api.get(EVENTS, {"actor": records.actor.pk}).json()["count"] >= 2
    assert api.get(EVENTS, {"created_after": "2999-01-01T00:00:00Z"}).json()["count"] == 0
    assert api.get(EVENTS, {"created_before": "2999-01-01T00:00:00Z", "ordering": "seq"}).json()["count"] >= 2
    for bad in ({"action": "nope"}, {"actor": "x"}, {"created_after": "soon"}, {"hash": "x"}, {"ordering": "hash"}):
        error_of(api.get(EVENTS, bad), 400)


def test_writes_are_not_allowed(api, records):
    event = AuditEvent.objects.filter(tenant=records.tenant).first()
    for response in (api.post(EVENTS, {}, format="json"), api.delete(f"{EVENTS}{event.pk}/")):
        assert error_of(response, 405)["code"] == "method_not_allowed"


def test_the_list_runs_a_constant_number_of_queries(api, records):
    records.customer()
    api.get(EVENTS)
    with CaptureQueriesContext(connection) as few:
        api.get(EVENTS)
    for _ in range(10):
        records.customer()
    with CaptureQueriesContext(connection) as many:
        assert api.get(EVENTS, {"page_size": 200}).json()["count"] >= 11
    assert len(many) == len(few)
