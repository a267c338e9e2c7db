"""Who may delete, restore and purge; retention; legal hold; interrupted purges."""

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.utils import timezone
from guardian.shortcuts import assign_perm

from crm.records.purge import purge_rows
from crm.recyclebin import actions as recyclebin
from crm.recyclebin.actions import Item
from crm.tenancy.context import activate
from customers.models import Contact, Customer, Ticket
from tests.factories import make_member

ROLES = ["admin", "manager", "rep", "support", "viewer"]


@pytest.fixture
def members(tenant):
    return {role: make_member(tenant, f"{role}-member", role=role) for role in ROLES}


def attempt(operation, user, *args):
    try:
        operation(*args, acting_user=user)
    except PermissionDenied:
        return "refused"
    except recyclebin.NotInBin:
        return "not found"
    return "done"


# role -> outcome of deleting / restoring a customer the role's member owns (reps) or
# that an admin owns (others), and of restoring what an admin deleted.
DELETE_OWN = {"admin": "done", "manager": "done", "rep": "done", "support": "refused", "viewer": "refused"}
# What is not in the user's own bin is answered like an id that does not exist (no oracle).
RESTORE_OTHERS = {"admin": "done", "manager": "done", "rep": "not found", "support": "not found", "viewer": "not found"}


@pytest.mark.parametrize("role", ROLES)
def test_delete_by_role(role, tenant, records, members):
    user = members[role]
    customer = records.customer(owner=user)
    with activate(tenant, user=user):
        outcome = attempt(recyclebin.delete, user, Customer.objects.filter(pk=customer.pk))
    assert outcome == DELETE_OWN[role]


@pytest.mark.parametrize("role", ROLES)
def test_restore_of_what_someone_else_deleted_by_role(role, tenant, records, admin_user, members):
    customer = records.customer()
    with activate(tenant, user=admin_user):
        customer.delete()
    with activate(tenant, user=members[role]):
        outcome = attempt(recyclebin.restore, members[role], [Item(Customer, customer.pk)])
    expected = RESTORE_OTHERS[role]
    assert outcome == expected


def test_a_rep_restores_what_they_deleted_themselves(tenant, records, members):
    rep = members["rep"]
    customer = records.customer(owner=rep)
    with activate(tenant, user=rep):
        batch = recyclebin.delete(Customer.objects.filter(pk=customer.pk), acting_user=rep)
        recyclebin.restore_batch(batch.id, acting_user=rep)
        assert Customer.objects.filter(pk=customer.pk).exists()


def test_support_deletes_and_restores_tickets_assigned_to_them_only(tenant, records, members):
    agent = members["support"]
    theirs = records.ticket(assignee=agent)
    others = records.ticket()
    with activate(tenant, user=agent):
        assert attempt(recyclebin.delete, agent, Ticket.objects.filter(pk=others.pk)) == "refused"
        batch = recyclebin.delete(Ticket.objects.filter(pk=theirs.pk), acting_user=agent)
        recyclebin.restore_batch(batch.id, acting_user=agent)
    assert Ticket.all_objects.get(pk=theirs.pk).deleted_at is None


@pytest.mark.parametrize("role", ROLES)
def test_purge_needs_the_per_object_permission(role, tenant, records, admin_user, members):
    customer = records.customer()
    with activate(tenant, user=admin_user):
        customer.delete()
    with activate(tenant, user=members[role]):
        outcome = attempt(recyclebin.purge, members[role], [Item(Customer, customer.pk)])
    # A rep does not see a colleague's customer even in the bin: the answer of an id that does not exist.
    assert outcome == {"admin": "done", "rep": "not found"}.get(role, "refused")


def test_an_admin_can_grant_purge_of_one_record_to_a_manager(tenant, records, admin_user, members):
    manager = members["manager"]
    granted, other = records.customer(), records.customer()
    with activate(tenant, user=admin_user):
        Customer.objects.filter(pk__in=[granted.pk, other.pk]).delete()
        assign_perm("customers.purge_customer", manager, Customer.all_objects.get(pk=granted.pk))
    with activate(tenant, user=manager):
        assert attempt(recyclebin.purge, manager, [Item(Customer, other.pk)]) == "refused"
        assert attempt(recyclebin.purge, manager, [Item(Customer, granted.pk)]) == "done"
    assert not Customer.all_objects.filter(pk=granted.pk).exists()
    assert Customer.all_objects.filter(pk=other.pk).exists()


def test_a_purge_grant_goes_away_with_its_record(tenant, records, admin_user, members):
    from customers.models import CustomerPurgePermission

    customer = records.customer()
    with activate(tenant, user=admin_user):
        customer.delete()
        assign_perm("customers.purge_customer", members["manager"], Customer.all_objects.get(pk=customer.pk))
        assert CustomerPurgePermission.objects.filter(tenant=tenant).count() == 1
        recyclebin.purge([Item(Customer, customer.pk)], acting_user=admin_user)
    assert not CustomerPurgePermission.objects.exists()


# -- retention -------------------------------------------------------------------


def deleted_days_ago(records, days, count=1):
    created = []
    with time_machine.travel(timezone.now() - timedelta(days=days), tick=False), activate(records.tenant):
        for _ in range(count):
            customer = records.customer()
            records.contact(customer)
            customer.delete()
            created.append(customer)
    return created


def test_retention_purges_only_items_past_the_tenants_period(tenant, records):
    tenant.retention_days = 10
    tenant.save()
    old = deleted_days_ago(records, 11)
    recent = deleted_days_ago(records, 9)
    with activate(tenant):
        counts = recyclebin.purge_expired(tenant)
    assert counts == {"customer": 1, "contact": 1}
    assert not Customer.all_objects.filter(pk=old[0].pk).exists()
    assert Customer.all_objects.filter(pk=recent[0].pk).exists()


def test_legal_hold_stops_all_purging(tenant, records):
    tenant.legal_hold = True
    tenant.save()
    old = deleted_days_ago(records, 400)
    call_command("purge_recycle_bin")
    assert Customer.all_objects.filter(pk=old[0].pk).exists()


def test_purge_command_reports_per_tenant(tenant, other_tenant, records, capsys):
    deleted_days_ago(records, 31, count=3)
    other_tenant.legal_hold = True
    other_tenant.save()
    call_command("purge_recycle_bin")
    lines = capsys.readouterr().out.strip().splitlines()
    assert "alpha: purged 3 customer, 3 contact" in lines
    assert "beta: on legal hold, nothing purged" in lines


def test_an_interrupted_purge_carries_on_where_it_stopped(tenant, records):
    old = deleted_days_ago(records, 40, count=5)
    # A worker died after its first chunk had committed.
    with activate(tenant):
        purge_rows(Customer, [old[0].pk, old[1].pk])
        assert Customer.all_objects.count() == 3
        counts = recyclebin.purge_expired(tenant, chunk=2)
        assert counts == {"customer": 3, "contact": 3}
        assert recyclebin.purge_expired(tenant, chunk=2) == {}
    assert not Customer.all_objects.exists() and not Contact.all_objects.exists()


def test_retention_runs_in_bounded_chunks(tenant, records):
    deleted_days_ago(records, 40, count=7)
    with activate(tenant):
        assert recyclebin.purge_expired(tenant, chunk=3) == {"customer": 7, "contact": 7}


def test_the_daily_task_is_scheduled():
    from django.conf import settings

    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "crm.recyclebin.tasks.purge_recycle_bin" in tasks
