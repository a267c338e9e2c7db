"""Which writes become which webhook events: one hook on the audit events every action writes."""

import pytest
from django.db import transaction

from crm.recyclebin import actions as recyclebin
from crm.tenancy.context import activate
from customers import actions as customer_actions
from customers.models import Customer
from sales import actions as sales_actions
from tests.factories import make_member
from webhooks.hooks import events_of
from webhooks.models import EVENTS, Delivery


def sent(endpoint) -> list[tuple[str, str, list, int]]:
    rows = Delivery.all_objects.filter(endpoint=endpoint).order_by("pk")
    return [(row.event, row.payload["type"], row.payload["ids"], row.payload["count"]) for row in rows]


def test_creating_and_changing_records_sends_the_chosen_events(records):
    endpoint = records.endpoint(events=["customer.created", "customer.updated", "task.created"])
    customer = records.customer()
    records._run(customer_actions.update_customer, customer, name="Renamed")
    task = records.task(customer=customer)
    records.contact(customer)  # not chosen
    assert sent(endpoint) == [
        ("customer.created", "customer", [customer.pk], 1),
        ("customer.updated", "customer", [customer.pk], 1),
        ("task.created", "task", [task.pk], 1),
    ]
    updated = Delivery.all_objects.get(endpoint=endpoint, event="customer.updated")
    assert updated.payload["fields"] == ["name"]  # field names, never values
    assert "Renamed" not in str(updated.payload)


def test_moving_a_deal_also_sends_stage_changed(records):
    endpoint = records.endpoint(events=["opportunity.updated", "opportunity.stage_changed"])
    deal = records.opportunity()
    records._run(sales_actions.move_opportunity, deal, "proposal")
    records._run(sales_actions.update_opportunity, deal, name="Renamed deal")
    assert [event for event, *_rest in sent(endpoint)] == [
        "opportunity.updated",
        "opportunity.stage_changed",
        "opportunity.updated",
    ]


def test_a_delete_and_its_undo_name_the_records_and_what_went_along(records, admin_user):
    endpoint = records.endpoint(events=["customer.deleted", "contact.deleted", "customer.restored", "contact.restored"])
    customer = records.customer()
    records.contact(customer)
    with activate(records.tenant, user=admin_user):
        batch = recyclebin.delete(Customer.objects.filter(pk=customer.pk), acting_user=admin_user)
        recyclebin.restore_batch(batch.id, acting_user=admin_user)
    assert sent(endpoint) == [
        ("customer.deleted", "customer", [customer.pk], 1),
        ("contact.deleted", "contact", [], 1),
        ("customer.restored", "customer", [], 1),
        ("contact.restored", "contact", [], 1),
    ]
    assert {row.payload["batch"] for row in Delivery.all_objects.filter(endpoint=endpoint)} == {str(batch.id)}


def test_a_bulk_change_is_one_event_with_every_id(records, admin_user):
    endpoint = records.endpoint(events=["customer.updated"])
    first, second = records.customer(), records.customer()
    rep = make_member(records.tenant, role="rep")
    with activate(records.tenant, user=admin_user):
        chosen = Customer.objects.filter(pk__in=[first.pk, second.pk])
        customer_actions.bulk_assign_owner(chosen, rep, acting_user=admin_user)
    assert sent(endpoint) == [("customer.updated", "customer", [first.pk, second.pk], 2)]


def test_a_rolled_back_write_sends_nothing(records, admin_user):
    endpoint = records.endpoint(events=["customer.created"])
    with pytest.raises(RuntimeError), transaction.atomic():
        records.customer()
        raise RuntimeError("changed my mind")
    assert sent(endpoint) == []


def test_another_companys_writes_never_reach_this_companys_endpoints(records, other_records):
    ours = records.endpoint(events=["customer.created"])
    theirs = other_records.endpoint(events=["customer.created"])
    customer = other_records.customer()
    assert sent(ours) == []
    assert sent(theirs) == [("customer.created", "customer", [customer.pk], 1)]
    assert Delivery.all_objects.get(endpoint=theirs).tenant_id == other_records.tenant.pk


def test_webhooks_own_writes_and_other_events_are_not_sent(records):
    endpoint = records.endpoint(events=list(EVENTS))
    records.endpoint()
    assert sent(endpoint) == []


def test_every_event_name_is_type_dot_verb():
    assert "customer.created" in EVENTS and "task.restored" in EVENTS and "opportunity.stage_changed" in EVENTS
    assert all(name.split(".")[0] in {"customer", "contact", "opportunity", "ticket", "task"} for name in EVENTS)


class _Event:
    def __init__(self, **values):
        self.__dict__.update(
            {"action": "restore", "object_type": "", "object_id": "", "batch": None, "count": 0, "detail": {}, **values}
        )
        from django.utils import timezone

        self.created_at = timezone.now()


def test_a_restore_of_several_types_names_each_types_ids():
    event = _Event(
        detail={"ids": {"customer": [3], "task": [7, 8], "attachment": [1]}, "counts": {"customer": 1, "task": 2}}
    )
    assert [(name, payload["ids"], payload["count"]) for name, payload in events_of(event)] == [
        ("customer.restored", [3], 1),
        ("task.restored", [7, 8], 2),
    ]


def test_an_import_sends_how_many_it_created_and_updated(records, admin_user):
    from imports import actions as import_actions
    from tests.imports.helpers import csv_bytes

    endpoint = records.endpoint(events=["customer.created", "customer.updated"])
    rows = [["Name", "Email"], ["Imported One", "one@example.com"], ["Imported Two", "two@example.com"]]
    with activate(records.tenant, user=admin_user):
        job = import_actions.upload(csv_bytes(rows), "people.csv", "customers", acting_user=admin_user)
        job = import_actions.preview(job, acting_user=admin_user)
        job = import_actions.run(job, acting_user=admin_user)
    assert sent(endpoint) == [("customer.created", "customer", [], 2)]
    assert Delivery.all_objects.get(endpoint=endpoint).payload["import"] == job.pk
