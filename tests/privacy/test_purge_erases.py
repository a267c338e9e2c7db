"""Purge means erasure: what is left of a purged record is its history, without personal values,
and no purge grant outlives its record's stay in the bin."""

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from guardian.models import GroupObjectPermission
from guardian.shortcuts import assign_perm

from audit.models import AuditEvent
from crm.records.erasure import MARK, holds_value
from crm.records.registry import record_types
from crm.recyclebin import actions as recyclebin
from crm.recyclebin.actions import Item
from crm.tenancy.context import activate, amend
from customers.models import Contact, Customer, CustomerPurgePermission, Interaction, Ticket, TicketMessage
from sales.models import Opportunity
from tests.factories import make_member

PERSON = {"name": "Zhang Wei", "email": "zhang.wei@example.com", "phone": "+86 138 0000 0000", "address": "1 Road"}


def history_of(model, pk):
    return model.history.model.objects.filter(id=pk).order_by("history_date")


def values_left(model, pk) -> int:
    return history_of(model, pk).filter(holds_value(model)).count()


@pytest.fixture
def person(records, in_tenant):
    """A customer who is a person, edited once, with one of each child, in the bin."""
    customer = records.customer(kind="person", notes="Prefers calls after 6pm", **PERSON)
    Customer.all_objects.filter(pk=customer.pk).update(phone="+86 139 1111 1111")
    customer = Customer.objects.get(pk=customer.pk)
    customer.save()  # a second version with the new phone
    family = {
        Customer: customer.pk,
        Contact: records.contact(customer, name="Li Na", email="li.na@example.com").pk,
        Interaction: records.interaction(customer, summary="Li Na called about her invoice").pk,
        Ticket: records.ticket(customer, subject="Zhang Wei's refund", description="Card ending 1234").pk,
        Opportunity: records.opportunity(customer, name="Zhang Wei renewal", lost_reason="moved abroad").pk,
    }
    ticket = Ticket.all_objects.get(pk=family[Ticket])
    family[TicketMessage] = records.ticketmessage(ticket, kind="customer", body="Zhang Wei: refund to card 1234").pk
    customer.delete()
    return family


def test_every_record_type_declares_its_personal_fields():
    assert {name: entry.personal_fields for name, entry in record_types().items()} == {
        "customer": ("name", "email", "phone", "website", "address", "notes"),
        "contact": ("name", "title", "email", "phone"),
        "interaction": ("summary",),
        "ticket": ("subject", "description"),
        "ticketmessage": ("body",),
        "opportunity": ("name", "lost_reason"),
        "attachment": ("name",),  # a file's name may name a person; its bytes go with the purge
        "task": ("title", "notes"),
        "endpoint": (),  # a webhook: a company's configuration, nobody's personal data
        "savedview": ("name", "query"),  # its search text may name a person
    }


def test_a_purge_keeps_the_history_rows_but_erases_their_personal_values(person, admin_user):
    kinds_before = {
        model: list(history_of(model, pk).values_list("history_type", flat=True)) for model, pk in person.items()
    }
    assert values_left(Customer, person[Customer]) == 3  # created, edited, deleted

    recyclebin.purge([Item(Customer, person[Customer])], acting_user=admin_user)

    for model, pk in person.items():
        rows = history_of(model, pk)
        assert list(rows.values_list("history_type", flat=True)) == [*kinds_before[model], "-"]
        assert values_left(model, pk) == 0, model
        assert rows.filter(history_user=admin_user).exists()
    customer_rows = list(history_of(Customer, person[Customer]).values("name", "email", "phone", "address", "notes"))
    assert {row["name"] for row in customer_rows} == {MARK}
    assert {row["email"] for row in customer_rows} == {MARK}
    assert {row["notes"] for row in customer_rows} == {MARK}
    assert set(history_of(Contact, person[Contact]).values_list("title", flat=True)) == {""}  # blank stays blank
    # What is not personal stays: the kind of customer, its dates, why each version was made.
    assert set(history_of(Customer, person[Customer]).values_list("kind", flat=True)) == {"person"}
    reasons = list(history_of(Customer, person[Customer]).values_list("history_change_reason", flat=True))
    assert reasons[-2:] == ["deleted", "purged"]


def test_retention_and_emptying_the_bin_erase_too(tenant, records, admin_user):
    tenant.retention_days = 10
    tenant.save()
    with time_machine.travel(timezone.now() - timedelta(days=11), tick=False), activate(tenant, user=admin_user):
        old = records.customer(**PERSON)
        old.delete()
    with activate(tenant, user=admin_user):
        binned = records.customer(name="Wang Fang", email="wang.fang@example.com")
        binned.delete()
        recyclebin.purge_expired(tenant)
        assert values_left(Customer, old.pk) == 0
        assert values_left(Customer, binned.pk) == 2  # created, deleted
        recyclebin.empty_bin(acting_user=admin_user)
        assert values_left(Customer, binned.pk) == 0


def test_a_change_reason_someone_typed_is_erased_the_codes_own_are_kept(records, in_tenant, admin_user):
    customer = records.customer(**PERSON)
    with amend(reason="Zhang Wei asked by phone"):
        customer.save()
    customer.delete()
    recyclebin.purge([Item(Customer, customer.pk)], acting_user=admin_user)
    reasons = list(history_of(Customer, customer.pk).values_list("history_change_reason", flat=True))
    assert reasons == ["created", MARK, "deleted", "purged"]


def test_erasing_is_one_update_per_history_table_however_many_rows(records, in_tenant, admin_user):
    customers = [records.customer() for _ in range(20)]
    Customer.objects.filter(pk__in=[c.pk for c in customers]).delete()
    with CaptureQueriesContext(connection) as queries:
        recyclebin.purge([Item(Customer, c.pk) for c in customers], acting_user=admin_user)
    updates = [q["sql"] for q in queries if q["sql"].startswith('UPDATE "customers_historicalcustomer"')]
    assert len(updates) == 1


# -- purge grants ----------------------------------------------------------------------------


@pytest.fixture
def manager(tenant):
    return make_member(tenant, "manager-of-grants", role="manager")


def test_a_purge_ends_every_grant_on_the_record_and_says_how_many(tenant, records, admin_user, manager):
    customer = records.customer()
    group = Group.objects.create(name="purgers")
    with activate(tenant, user=admin_user):
        customer.delete()
        binned = Customer.all_objects.get(pk=customer.pk)
        recyclebin.grant_purge(manager, binned, acting_user=admin_user)
        assign_perm("customers.purge_customer", group, binned)  # a group grant: guardian's generic table
        recyclebin.purge([Item(Customer, customer.pk)], acting_user=admin_user)
    assert not CustomerPurgePermission.objects.filter(content_object_id=customer.pk).exists()
    assert not GroupObjectPermission.objects.filter(object_pk=str(customer.pk)).exists()
    event = AuditEvent.objects.filter(tenant=tenant, action=AuditEvent.Action.PURGE).latest("seq")
    assert event.detail["grants_ended"] == 2


def test_a_restore_ends_the_grant_so_a_later_delete_needs_a_new_one(tenant, records, admin_user, manager):
    customer = records.customer()
    with activate(tenant, user=admin_user):
        batch = recyclebin.delete(Customer.objects.filter(pk=customer.pk), acting_user=admin_user)
        recyclebin.grant_purge(manager, Customer.all_objects.get(pk=customer.pk), acting_user=admin_user)
        recyclebin.restore_batch(batch.id, acting_user=admin_user)
        event = AuditEvent.objects.filter(tenant=tenant, action=AuditEvent.Action.RESTORE).latest("seq")
        assert event.detail["grants_ended"] == 1
        recyclebin.delete(Customer.objects.filter(pk=customer.pk), acting_user=admin_user)
    with activate(tenant, user=manager):
        assert not recyclebin.purgeable_now(manager, Customer).filter(pk=customer.pk).exists()
