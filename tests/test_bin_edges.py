"""The recycle bin at its edges: legal hold stops a purge already running, and the audit log
records only what happened, whoever wins a race.

The races are real: second threads with their own database connections, ordered by
holding the company's bin lock (crm.records.softdelete.lock_tenant) in another session.
"""

import threading
import time
from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.utils import timezone

from audit.models import AuditEvent
from crm.records.softdelete import lock_tenant
from crm.recyclebin import actions as recyclebin
from crm.recyclebin.actions import Item
from crm.tenancy.actions import update_tenant_settings
from crm.tenancy.context import activate
from customers.models import Contact, Customer, Ticket
from tests.factories import RecordMaker, make_member, make_tenant

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def company():
    tenant = make_tenant("edges")
    admin = make_member(tenant, "edges-admin", role="admin")
    return tenant, admin, RecordMaker(tenant, admin)


def in_thread(function, results, key):
    def run():
        try:
            results[key] = function()
        except Exception as error:  # the outcome under test
            results[key] = error
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def waiting_for_a_lock(count=1, timeout=10) -> None:
    """Until `count` other sessions of this database wait on a lock."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0] >= count:
                return
        time.sleep(0.02)
    raise AssertionError("nobody waited for the lock")


def events(tenant, action):
    return list(AuditEvent.objects.filter(tenant=tenant, action=action).order_by("seq"))


# -- legal hold means nothing leaves -----------------------------------------------------------


def expired_customers(records, count):
    with time_machine.travel(timezone.now() - timedelta(days=60), tick=False), activate(records.tenant):
        customers = [records.customer() for _ in range(count)]
        for customer in customers:
            records.contact(customer)
            customer.delete()
    return customers


def hold_switched_on_while(tenant, admin, run):
    """Start `run` while another session holds the company's bin lock, switch legal hold on in
    that session, then let `run` go on: what `run` purges now happened after the hold was on."""
    results, holder_ready, release = {}, threading.Event(), threading.Event()

    def holder():
        with activate(tenant, user=admin, process="tests"), transaction.atomic():
            lock_tenant(tenant.pk)
            holder_ready.set()
            release.wait(10)
            update_tenant_settings(tenant, legal_hold=True, acting_user=admin)

    hold = in_thread(holder, results, "holder")
    holder_ready.wait(10)
    purge = in_thread(run, results, "run")
    waiting_for_a_lock()
    release.set()
    hold.join(20)
    purge.join(30)
    return results["run"]


def test_legal_hold_switched_on_during_the_nightly_purge_stops_it(company):
    tenant, admin, records = company
    expired_customers(records, 6)

    def nightly():
        with activate(tenant, process="tests:retention"):
            return recyclebin.purge_expired(tenant, chunk=2)

    assert hold_switched_on_while(tenant, admin, nightly) is None
    assert Customer.all_objects.filter(tenant=tenant).count() == 6
    assert Contact.all_objects.filter(tenant=tenant).count() == 6
    assert events(tenant, AuditEvent.Action.RETENTION_PURGE) == []
    stopped = events(tenant, AuditEvent.Action.REFUSED)
    assert [event.detail for event in stopped] == [{"attempted": "retention_purge", "reason": "legal_hold"}]


def test_legal_hold_switched_on_while_the_bin_is_emptied_stops_it(company):
    tenant, admin, records = company
    expired_customers(records, 3)

    def empty():
        with activate(tenant, user=admin, process="tests"):
            return recyclebin.empty_bin(acting_user=admin)

    outcome = hold_switched_on_while(tenant, admin, empty)
    assert isinstance(outcome, PermissionDenied) and "legal hold" in str(outcome)
    assert Customer.all_objects.filter(tenant=tenant).count() == 3
    assert events(tenant, AuditEvent.Action.PURGE) == []


def test_retention_records_each_chunk_it_purged(company):
    tenant, _admin, records = company
    expired_customers(records, 4)
    with activate(tenant, process="tests:retention"):
        assert recyclebin.purge_expired(tenant, chunk=2) == {"customer": 4, "contact": 4}
    assert len(events(tenant, AuditEvent.Action.RETENTION_PURGE)) == 2  # one event a chunk


# -- the audit log records only what happened -------------------------------------------------


def two_at_once(tenant, admin, first, second):
    """Run two operations that both passed their checks, one after the other under the bin lock."""
    results, holder_ready, release = {}, threading.Event(), threading.Event()

    def holder():
        with activate(tenant, process="tests"), transaction.atomic():
            lock_tenant(tenant.pk)
            holder_ready.set()
            release.wait(10)

    hold = in_thread(holder, results, "holder")
    holder_ready.wait(10)

    def as_admin(operation):
        def run():
            with activate(tenant, user=admin, process="tests"):
                return operation()

        return run

    threads = [in_thread(as_admin(first), results, "first"), in_thread(as_admin(second), results, "second")]
    waiting_for_a_lock(count=2)
    release.set()
    for thread in (hold, *threads):
        thread.join(30)
    return results["first"], results["second"]


def test_two_purges_of_the_same_record_leave_one_event(company):
    tenant, admin, records = company
    customer = records.customer()
    with activate(tenant, user=admin):
        customer.delete()
    item = [Item(Customer, customer.pk)]
    outcomes = two_at_once(
        tenant,
        admin,
        lambda: recyclebin.purge(item, acting_user=admin),
        lambda: recyclebin.purge(item, acting_user=admin),
    )
    assert sorted(type(outcome).__name__ for outcome in outcomes) == ["NotInBin", "dict"]
    purges = events(tenant, AuditEvent.Action.PURGE)
    assert len(purges) == 1 and purges[0].detail["ids"] == [customer.pk]
    assert not Customer.all_objects.filter(pk=customer.pk).exists()


def test_a_restore_racing_a_purge_leaves_events_matching_the_end_state(company):
    tenant, admin, records = company
    customer = records.customer()
    with activate(tenant, user=admin):
        customer.delete()
    item = [Item(Customer, customer.pk)]
    restore, purge = two_at_once(
        tenant,
        admin,
        lambda: recyclebin.restore(item, acting_user=admin),
        lambda: recyclebin.purge(item, acting_user=admin),
    )
    restored, purged = events(tenant, AuditEvent.Action.RESTORE), events(tenant, AuditEvent.Action.PURGE)
    row = Customer.all_objects.filter(pk=customer.pk).first()
    if row is None:  # the purge won: the restore found nothing and said so
        assert isinstance(restore, recyclebin.NotInBin) and restored == [] and len(purged) == 1
    else:  # the restore won: the purge found nothing in the bin
        assert row.deleted_at is None and len(restored) == 1 and purged == []
        assert isinstance(purge, recyclebin.NotInBin)


def test_a_restore_that_changes_nothing_writes_nothing(company):
    tenant, admin, records = company
    customer = records.customer()
    with activate(tenant, user=admin):
        batch = recyclebin.delete(Customer.objects.filter(pk=customer.pk), acting_user=admin)
        recyclebin.restore_batch(batch.id, acting_user=admin)
        before = AuditEvent.objects.filter(tenant=tenant).count()
        with pytest.raises(recyclebin.NotInBin):
            recyclebin.restore_batch(batch.id, acting_user=admin)
        with pytest.raises(recyclebin.NotInBin):
            recyclebin.restore([Item(Customer, customer.pk)], acting_user=admin)
    assert AuditEvent.objects.filter(tenant=tenant).count() == before


def test_a_restore_of_several_types_counts_each_row_once(company):
    tenant, admin, records = company
    customer, other = records.customer(), records.customer()
    ticket = records.ticket(other)
    with activate(tenant, user=admin):
        recyclebin.delete(Customer.objects.filter(pk=customer.pk), acting_user=admin)
        recyclebin.delete(Ticket.objects.filter(pk=ticket.pk), acting_user=admin)
        counts = recyclebin.restore([Item(Customer, customer.pk), Item(Ticket, ticket.pk)], acting_user=admin)
    assert counts == {"customer": 1, "ticket": 1}
    restored = events(tenant, AuditEvent.Action.RESTORE)
    assert sum(event.count for event in restored) == 2
    assert restored[-1].detail["ids"] == {"customer": [customer.pk], "ticket": [ticket.pk]}
