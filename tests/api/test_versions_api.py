"""Versions over the API: reads carry an ETag; writes with an If-Match that no longer matches get a 412."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers.models import Customer
from tests.api.conftest import error_of
from tests.trail import Trail

RESOURCES = {
    "customer": "customers",
    "contact": "contacts",
    "interaction": "interactions",
    "ticket": "tickets",
    "opportunity": "opportunities",
}
CHANGES = {
    "customer": {"name": "Renamed Co"},
    "contact": {"title": "Chief Listener"},
    "interaction": {"summary": "Talked again"},
    "ticket": {"subject": "Still broken"},
    "opportunity": {"name": "Bigger deal"},
}


def url(record_type, pk):
    return f"/api/v1/{RESOURCES[record_type]}/{pk}/"


@pytest.mark.parametrize("record_type", RESOURCES)
def test_a_read_carries_the_version_as_etag_and_field(api, records, record_type):
    record = records.any(record_type)

    response = api.get(url(record_type, record.pk))

    assert response.status_code == 200
    assert response["ETag"] == '"1"'
    assert response.json()["version"] == 1


@pytest.mark.parametrize("record_type", RESOURCES)
def test_patch_with_the_current_version_succeeds_and_answers_the_next_etag(api, records, record_type, tenant):
    record = records.any(record_type)

    with Trail(tenant) as trail:
        response = api.patch(url(record_type, record.pk), CHANGES[record_type], format="json", HTTP_IF_MATCH='"1"')

    assert response.status_code == 200, response.content
    assert response["ETag"] == '"2"' and response.json()["version"] == 2
    assert type(record).all_objects.get(pk=record.pk).version == 2
    assert [(row[0], row[2]) for row in trail.versions] == [(record_type, "~")]
    assert type(record).history.filter(id=record.pk).latest("history_id").version == 2


@pytest.mark.parametrize("record_type", RESOURCES)
def test_patch_with_an_older_version_is_refused_with_412_naming_the_current_one(api, records, record_type, tenant):
    record = records.any(record_type)
    api.patch(url(record_type, record.pk), CHANGES[record_type], format="json")  # someone else's change: version 2

    with Trail(tenant) as trail:
        response = api.patch(url(record_type, record.pk), CHANGES[record_type], format="json", HTTP_IF_MATCH='"1"')

    error = error_of(response, 412)
    assert error["code"] == "version_conflict"
    assert error["current_version"] == 2 and "version 2" in error["message"]
    assert response["ETag"] == '"2"'
    assert trail.events == [] and trail.versions == []


def test_put_with_an_older_version_is_refused_and_changes_nothing(api, records):
    customer = records.customer(name="Old Co")
    body = api.get(url("customer", customer.pk)).json()
    api.patch(url("customer", customer.pk), {"phone": "+86 10 1234 5678"}, format="json")

    writable = {name: body[name] for name in ("kind", "name", "email", "tier", "status", "tags", "notes")}
    response = api.put(url("customer", customer.pk), {**writable, "name": "Mine"}, format="json", HTTP_IF_MATCH='"1"')

    assert error_of(response, 412)["current_version"] == 2
    stored = Customer.all_objects.get(pk=customer.pk)
    assert (stored.name, stored.phone, stored.version) == ("Old Co", "+86 10 1234 5678", 2)


def test_without_if_match_a_write_applies_to_the_record_as_it_is(api, records):
    customer = records.customer(name="Old Co")
    api.patch(url("customer", customer.pk), {"phone": "+86 10 1234 5678"}, format="json")

    response = api.patch(url("customer", customer.pk), {"name": "New Co"}, format="json")

    assert response.status_code == 200 and response["ETag"] == '"3"'


@pytest.mark.parametrize(
    ("header", "status"),
    [('"1"', 200), ('W/"1"', 200), ('"7", "1"', 200), ("*", 200), ('"2"', 412), ("1", 412), ("garbage", 412)],
)
def test_if_match_accepts_entity_tags_and_refuses_anything_else(api, records, header, status):
    customer = records.customer()

    response = api.patch(url("customer", customer.pk), {"name": "Tagged Co"}, format="json", HTTP_IF_MATCH=header)

    assert response.status_code == status


def test_the_version_is_read_only(api, records):
    customer = records.customer(name="Old Co")

    response = api.patch(url("customer", customer.pk), {"version": 99}, format="json")

    assert response.status_code == 200 and response.json()["version"] == 1
    assert Customer.all_objects.get(pk=customer.pk).version == 1


def test_delete_with_an_older_version_is_refused_and_with_the_current_one_goes_to_the_bin(api, records):
    customer = records.customer()
    api.patch(url("customer", customer.pk), {"name": "Changed Co"}, format="json")

    refused = api.delete(url("customer", customer.pk), HTTP_IF_MATCH='"1"')
    assert error_of(refused, 412)["current_version"] == 2
    assert Customer.all_objects.get(pk=customer.pk).deleted_at is None

    assert api.delete(url("customer", customer.pk), HTTP_IF_MATCH='"2"').status_code == 204
    deleted = Customer.all_objects.get(pk=customer.pk)
    assert deleted.deleted_at is not None and deleted.version == 3


def test_the_version_check_is_the_updates_own_where_with_no_extra_query(api, records):
    customer = records.customer(name="Old Co")
    api.patch(url("customer", customer.pk), {"name": "Warm Co"}, format="json")  # caches warm

    with CaptureQueriesContext(connection) as checked:
        api.patch(url("customer", customer.pk), {"name": "Checked Co"}, format="json", HTTP_IF_MATCH='"2"')
    with CaptureQueriesContext(connection) as unchecked:
        api.patch(url("customer", customer.pk), {"name": "Plain Co"}, format="json")

    assert len(checked) == len(unchecked)
    updates = [query["sql"] for query in checked if query["sql"].startswith('UPDATE "customers_customer"')]
    assert len(updates) == 1
    assert updates[0].endswith(
        f'WHERE ("customers_customer"."id" = {customer.pk} AND "customers_customer"."version" = 2)'
    )


def test_a_bulk_delete_naming_versions_deletes_nothing_when_one_changed_since(api, records):
    first, second = records.customer(name="First"), records.customer(name="Second")
    api.patch(url("customer", second.pk), {"name": "Second, renamed"}, format="json")
    body = {"ids": [first.pk, second.pk], "versions": {str(first.pk): 1, str(second.pk): 1}}

    error = error_of(api.post("/api/v1/customers/bulk-delete/", body, format="json"), 412)

    assert error["code"] == "version_conflict" and error["changed"] == [second.pk]
    assert Customer.all_objects.filter(deleted_at__isnull=True).count() == 2

    body["versions"][str(second.pk)] = 2
    response = api.post("/api/v1/customers/bulk-delete/", body, format="json")
    assert response.status_code == 200 and response.json()["counts"] == {"customer": 2}


def test_a_bulk_delete_refuses_version_keys_that_are_not_ids(api, records):
    customer = records.customer()
    response = api.post("/api/v1/customers/bulk-delete/", {"ids": [customer.pk], "versions": {"abc": 1}}, format="json")
    assert error_of(response, 400)["fields"].keys() == {"versions"}
