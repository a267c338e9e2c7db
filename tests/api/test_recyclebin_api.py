"""The recycle bin over the API: list and filters, restore (one, items, batch), purge, conflicts."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm.recyclebin import actions as recyclebin
from crm.tenancy.actions import update_tenant_settings
from crm.tenancy.context import activate
from customers.models import Contact, Customer
from tests.api.conftest import error_of

BIN = "/api/v1/recycle-bin/"


def delete(records, record, user=None):
    with activate(records.tenant, user=user or records.actor):
        return recyclebin.delete(type(record).objects.filter(pk=record.pk), acting_user=user or records.actor)


def test_the_bin_lists_deleted_items_with_their_details(api, records, other_records):
    customer = records.customer(name="Initech")
    records.contact(customer)
    batch = delete(records, customer)
    delete(other_records, other_records.customer())
    body = api.get(BIN).json()
    rows = body["results"]
    assert {(row["type"], row["id"]) for row in rows} >= {("customer", customer.pk)}
    assert len(rows) == 2  # the customer and its contact; nothing of the other tenant
    row = next(row for row in rows if row["type"] == "customer")
    assert row["label"] == "Initech"
    assert row["deleted_by"] == {"id": records.actor.pk, "username": records.actor.username}
    assert row["batch"] == str(batch.id)
    assert row["purge_after"] is not None and row["deleted_at"] < row["purge_after"]


def test_bin_filters(api, records, api_as):
    first = records.customer()
    delete(records, first)
    second = records.ticket()
    batch = delete(records, second)
    assert [r["id"] for r in api.get(BIN, {"type": "ticket"}).json()["results"]] == [second.pk]
    assert [r["id"] for r in api.get(BIN, {"batch": str(batch.id)}).json()["results"]] == [second.pk]
    assert api.get(BIN, {"deleted_by": records.actor.pk}).json()["count"] == 2
    assert api.get(BIN, {"deleted_by": 2**40}).json()["count"] == 0
    later = (timezone.now() + timezone.timedelta(minutes=1)).isoformat()
    assert api.get(BIN, {"deleted_after": later}).json()["count"] == 0
    assert api.get(BIN, {"deleted_before": later}).json()["count"] == 2
    for bad in ({"type": "user"}, {"batch": "nope"}, {"deleted_after": "yesterday"}, {"colour": "red"}):
        error_of(api.get(BIN, bad), 400)


def test_the_bin_list_runs_a_constant_number_of_queries(api, records, api_as):
    other_deleter = api_as("manager")
    delete(records, records.customer())
    api.get(BIN)
    with CaptureQueriesContext(connection) as few:
        assert api.get(BIN).status_code == 200
    for index in range(12):
        delete(records, records.any(["customer", "ticket", "opportunity"][index % 3]), other_deleter.user)
    with CaptureQueriesContext(connection) as many:
        response = api.get(BIN, {"page_size": 200})
    assert response.json()["count"] >= 13
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]


def test_retrieve_one_item(api, records, other_records):
    ticket = records.ticket()
    delete(records, ticket)
    assert api.get(f"{BIN}ticket/{ticket.pk}/").json()["id"] == ticket.pk
    alive = records.ticket()
    theirs = other_records.ticket()
    delete(other_records, theirs)
    for path in (
        f"{BIN}ticket/{alive.pk}/",
        f"{BIN}ticket/{theirs.pk}/",
        f"{BIN}customer/{ticket.pk}/",
        f"{BIN}ticket/999999999/",
    ):
        error_of(api.get(path), 404)


def test_restore_one_brings_back_the_children_deleted_with_it(api, records):
    customer = records.customer()
    contact = records.contact(customer)
    delete(records, customer)
    response = api.post(f"{BIN}customer/{customer.pk}/restore/")
    assert response.status_code == 200, response.content
    assert response.json() == {"counts": {"customer": 1, "contact": 1}, "total": 2}
    with activate(records.tenant):
        assert Customer.objects.filter(pk=customer.pk).exists()
        assert Contact.objects.filter(pk=contact.pk).exists()


def test_restoring_a_child_of_a_deleted_parent_is_a_409_naming_the_parent(api, records):
    customer = records.customer()
    contact = records.contact(customer)
    delete(records, customer)
    error = error_of(api.post(f"{BIN}contact/{contact.pk}/restore/"), 409)
    assert error["code"] == "restore_conflict"
    assert error["parent"] == {"type": "customer", "id": customer.pk}
    with activate(records.tenant):
        assert Contact.deleted.filter(pk=contact.pk).exists()


def test_restoring_into_a_taken_email_is_a_409(api, records):
    old = records.customer(email="same@example.com")
    delete(records, old)
    records.customer(email="same@example.com")
    error = error_of(api.post(f"{BIN}customer/{old.pk}/restore/"), 409)
    assert "email" in error["message"]


def test_restore_many_by_batch_and_by_items(api, records):
    first, second = records.customer(), records.customer()
    batch = delete(records, first)
    delete(records, second)
    response = api.post(f"{BIN}restore/", {"batch": str(batch.id)}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["counts"] == {"customer": 1}
    response = api.post(f"{BIN}restore/", {"items": [{"type": "customer", "id": second.pk}]}, format="json")
    assert response.status_code == 200, response.content
    with activate(records.tenant):
        assert Customer.objects.filter(pk__in=[first.pk, second.pk]).count() == 2
    error_of(api.post(f"{BIN}restore/", {"batch": str(batch.id)}, format="json"), 404)


def test_restore_many_refuses_bad_input(api, records):
    too_many = [{"type": "customer", "id": n} for n in range(1, 1002)]
    for body in (
        {},
        {"batch": "x"},
        {"items": []},
        {"items": too_many},
        {"items": [{"type": "user", "id": 1}]},
        {"items": [{"type": "customer", "id": "one"}]},
        {"batch": "8bb84a8f-9033-409d-9f20-131a13ca68c8", "items": [{"type": "customer", "id": 1}]},
        [1, 2],
    ):
        error_of(api.post(f"{BIN}restore/", body, format="json"), 400)


def test_restore_of_another_tenants_items_is_404_and_changes_nothing(api, records, other_records):
    theirs = other_records.customer()
    batch = delete(other_records, theirs)
    error_of(api.post(f"{BIN}customer/{theirs.pk}/restore/"), 404)
    error_of(api.post(f"{BIN}restore/", {"batch": str(batch.id)}, format="json"), 404)
    error_of(api.post(f"{BIN}restore/", {"items": [{"type": "customer", "id": theirs.pk}]}, format="json"), 404)
    error_of(api.delete(f"{BIN}customer/{theirs.pk}/"), 404)
    with activate(other_records.tenant):
        assert Customer.deleted.filter(pk=theirs.pk).exists()


def test_purge_then_restore_is_404(api, records):
    customer = records.customer()
    records.contact(customer)
    delete(records, customer)
    response = api.delete(f"{BIN}customer/{customer.pk}/")
    assert response.status_code == 200, response.content
    assert response.json() == {"counts": {"customer": 1, "contact": 1}, "total": 2}
    with activate(records.tenant):
        assert not Customer.all_objects.filter(pk=customer.pk).exists()
    error = error_of(api.post(f"{BIN}customer/{customer.pk}/restore/"), 404)
    assert error["code"] == "not_found"
    error_of(api.delete(f"{BIN}customer/{customer.pk}/"), 404)


def test_purge_needs_the_per_object_permission(api, api_as, records):
    manager = api_as("manager")
    rep = api_as("rep")
    customer = records.customer(owner=rep.user)
    delete(records, customer)
    error_of(manager.delete(f"{BIN}customer/{customer.pk}/"), 403)
    error_of(rep.delete(f"{BIN}customer/{customer.pk}/"), 403)
    with activate(records.tenant, user=records.actor):
        recyclebin.grant_purge(manager.user, Customer.all_objects.get(pk=customer.pk), acting_user=records.actor)
    assert manager.delete(f"{BIN}customer/{customer.pk}/").status_code == 200


def test_nothing_is_purged_on_legal_hold(api, records):
    customer = records.customer()
    delete(records, customer)
    with activate(records.tenant, user=records.actor):
        update_tenant_settings(records.tenant, legal_hold=True, acting_user=records.actor)
    error = error_of(api.delete(f"{BIN}customer/{customer.pk}/"), 403)
    assert "legal hold" in error["message"]
    assert api.get(f"{BIN}customer/{customer.pk}/").json()["purge_after"] is None


def test_a_rep_restores_only_what_they_deleted(api_as, records):
    rep = api_as("rep")
    own = records.customer(owner=rep.user)
    by_admin = records.customer(owner=rep.user)
    delete(records, own, rep.user)
    delete(records, by_admin)
    assert {row["id"] for row in rep.get(BIN).json()["results"]} == {own.pk}
    # Not in their bin: the same 404 as an id that does not exist (no oracle of which ids do).
    error_of(rep.post(f"{BIN}customer/{by_admin.pk}/restore/"), 404)
    assert rep.post(f"{BIN}customer/{own.pk}/restore/").status_code == 200
