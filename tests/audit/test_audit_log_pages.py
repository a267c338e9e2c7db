"""The audit log page and its CSV export: the active tenant only, admins and managers only."""

import csv
import io
import json
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.events import record
from audit.models import AuditEvent
from crm.recyclebin import actions as recyclebin
from crm.tenancy.context import activate
from customers import actions as customer_actions
from customers.models import Customer
from tests.conftest import login
from tests.factories import make_member

pytestmark = pytest.mark.django_db

LIST = "/audit/"
EXPORT = "/audit/export.csv"


def seqs(response) -> list[int]:
    return [row["event"].seq for row in response.context["rows"]]


def exported(response) -> list[dict]:
    assert response.streaming
    text = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture
def admin_client(admin_user):
    return login(admin_user)


def test_the_log_lists_only_the_active_tenants_events_newest_first(records, other_records, tenant, admin_client):
    mine = records.customer(name="Mine")
    foreign = other_records.customer(name="Theirs")
    record(AuditEvent.Action.BACKUP_CREATED, tenant=None, object_type="backup", object_id=1)  # a system event

    response = admin_client.get(LIST)

    assert response.status_code == 200
    events = [row["event"] for row in response.context["rows"]]
    assert events and {event.tenant_id for event in events} == {tenant.pk}
    expected = list(
        AuditEvent.objects.filter(tenant=tenant).order_by("-created_at", "-seq").values_list("seq", flat=True)
    )
    assert seqs(response) == expected
    html = response.content.decode()
    assert f'href="/history/customer/{mine.pk}/"' in html
    assert f"/history/customer/{foreign.pk}/" not in html
    assert "backup" not in [event.object_type for event in events]


def test_columns_show_actor_action_object_batch_and_origin(records, tenant, admin_user):
    customer = records.customer()
    client = Client(REMOTE_ADDR="203.0.113.9")
    client.force_login(admin_user)
    client.post(
        f"/recycle-bin/delete/customer/?ids={customer.pk}",
        {"ids": str(customer.pk), "confirm": "1"},
        HTTP_X_REQUEST_ID="req-audit-1",
    )
    delete = AuditEvent.objects.get(tenant=tenant, action="delete")
    with activate(tenant, process="celery:purge_recycle_bin"):
        record(AuditEvent.Action.SETTINGS, detail={"retention_days": 30})

    response = client.get(LIST)
    html = response.content.decode()
    assert (delete.ip_address, delete.request_id) == ("203.0.113.9", "req-audit-1")
    assert "203.0.113.9" in html and "req-audit-1" in html
    assert f"?batch={delete.batch}" in html and "settings changed" in html
    row = next(row for row in response.context["rows"] if row["event"].action == "settings")
    assert row["event"].process == "celery:purge_recycle_bin" and row["event"].actor_username == ""
    assert "celery:purge_recycle_bin" in html


def test_filters_narrow_the_list(records, tenant, admin_user, admin_client):
    bob = make_member(tenant, "bob", role="manager")
    first = records.customer()
    second = records.customer()
    with activate(tenant, user=bob):
        customer_actions.update_customer(first, name="Renamed by Bob", acting_user=bob)
        batch = recyclebin.delete(Customer.objects.filter(pk=second.pk), acting_user=bob)

    def listed(**query):
        response = admin_client.get(LIST, query)
        assert response.status_code == 200
        return [row["event"] for row in response.context["rows"]]

    assert {event.actor_id for event in listed(actor=bob.pk)} == {bob.pk}
    assert {event.action for event in listed(action="update")} == {"update"}
    by_object = listed(object_type="Customer", object_id=str(first.pk))
    assert {event.action for event in by_object} == {"create", "update"}
    assert [event.action for event in listed(batch=str(batch.id))] == ["delete"]
    today = timezone.localdate()
    assert (
        len(listed(since=today.isoformat(), until=today.isoformat()))
        == AuditEvent.objects.filter(tenant=tenant).count()
    )
    assert listed(until=(today - timedelta(days=1)).isoformat()) == []
    assert listed(since=(today + timedelta(days=1)).isoformat()) == []
    assert listed(action="update", actor=admin_user.pk) == []


@pytest.mark.parametrize(
    "query",
    [
        {"since": "2024-13-45"},
        {"until": "not a date"},
        {"since": "0001-01-01"},
        {"until": "9999-12-31"},
        {"batch": "not-a-uuid"},
        {"actor": "abc"},
        {"actor": "99999999999999999999999"},
        {"action": "explode"},
        {"object_id": "1\x002"},
        {"object_type": "x" * 500},
        {"page": "abc"},
        {"page": "99999999999999999999"},
    ],
)
def test_bad_filter_input_is_a_message_not_a_500(records, admin_client, query):
    records.customer()
    response = admin_client.get(LIST, query)
    assert response.status_code == 200
    if "page" not in query:
        assert response.context["rows"] == []
        assert 'data-testid="audit-filter-errors"' in response.content.decode()


def test_actor_choices_are_limited_to_the_tenants_members(other_tenant, admin_client):
    outsider = make_member(other_tenant, "mallory", role="admin")
    response = admin_client.get(LIST, {"actor": outsider.pk})
    assert response.context["rows"] == []
    assert "mallory" not in response.content.decode()


@pytest.mark.parametrize(("role", "status"), [("manager", 200), ("rep", 403), ("support", 403), ("viewer", 403)])
def test_who_may_read_the_log(member_client, role, status):
    client = member_client(role)
    assert client.get(LIST).status_code == status
    assert client.get(EXPORT).status_code == status
    page = client.get("/").content.decode()
    assert ('data-testid="nav-audit-log"' in page) == (status == 200)


def test_anonymous_visitors_are_sent_to_log_in():
    response = Client().get(LIST)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def _query_count(client, path) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200
    return len(queries)


def test_the_list_runs_a_constant_number_of_queries(tenant, admin_client):
    for n in range(3):
        record(AuditEvent.Action.SETTINGS, tenant=tenant, object_type="customer", object_id=n + 1)
    admin_client.get(LIST)  # the first request after logging in also saves the session
    few = _query_count(admin_client, LIST)
    for n in range(80):
        record(AuditEvent.Action.DELETE, tenant=tenant, object_type="customer", object_id=n + 1, batch=uuid.uuid4())
    assert _query_count(admin_client, LIST) == few
    assert _query_count(admin_client, LIST + "?page=2") == few


def test_the_csv_export_streams_the_filtered_events_and_is_recorded(records, other_records, tenant, admin_client):
    customer = records.customer(name="Exported Co")
    other_records.customer()
    with activate(tenant, request_id="=cmd|' /C calc'!A0"):
        record(AuditEvent.Action.SETTINGS, detail={"legal_hold": True})

    response = admin_client.get(EXPORT)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert 'attachment; filename="audit-log-alpha-' in response["Content-Disposition"]
    rows = exported(response)
    assert list(rows[0]) == [
        "seq",
        "time",
        "actor",
        "process",
        "action",
        "object_type",
        "object_id",
        "batch",
        "count",
        "ip",
        "request_id",
        "detail",
    ]
    # Every event of the tenant, in chain order, including the export itself.
    assert [int(row["seq"]) for row in rows] == list(
        AuditEvent.objects.filter(tenant=tenant).order_by("seq").values_list("seq", flat=True)
    )
    created = next(row for row in rows if row["action"] == "create")
    assert (created["object_type"], created["object_id"], created["actor"]) == ("customer", str(customer.pk), "alice")
    assert created["time"].endswith("+00:00")
    settings_row = next(row for row in rows if row["action"] == "settings")
    assert json.loads(settings_row["detail"]) == {"legal_hold": True}
    assert settings_row["request_id"].startswith("'=")  # no formula for spreadsheets to run
    export_event = AuditEvent.objects.filter(tenant=tenant, action="export").get()
    assert export_event.detail == {"what": "audit_log", "filters": []}
    assert rows[-1]["action"] == "export" and int(rows[-1]["seq"]) == export_event.seq


def test_the_csv_export_applies_the_filters_and_records_their_names_only(records, tenant, member_client):
    records.customer()
    records.customer()
    manager = member_client("manager")
    today = timezone.localdate().isoformat()

    response = manager.get(EXPORT, {"action": "create", "object_type": "customer", "since": today})

    rows = exported(response)
    assert len(rows) == 2 and {row["action"] for row in rows} == {"create"}
    event = AuditEvent.objects.filter(tenant=tenant, action="export").get()
    assert event.actor == manager.user
    assert event.detail == {"what": "audit_log", "filters": ["action", "object_type", "since"]}
    assert today not in json.dumps(event.detail)


def test_an_export_with_bad_filters_goes_back_to_the_list_and_records_nothing(tenant, admin_client):
    response = admin_client.get(EXPORT, {"since": "yesterday-ish"})
    assert response.status_code == 302 and response["Location"].startswith("/audit/?")
    assert not AuditEvent.objects.filter(tenant=tenant, action="export").exists()


def test_the_log_renders_in_chinese(records, admin_user):
    records.customer()
    client = login(admin_user, language="zh-hans")
    response = client.get(LIST)
    assert response.status_code == 200 and response.context["rows"]
    assert client.get(LIST, {"since": "bad"}).status_code == 200
