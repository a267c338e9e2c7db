"""Delete, restore and purge of overlapping rows from concurrent sessions stay consistent."""

import threading

import pytest
from django.db import connection

from crm.records.softdelete import RestoreConflict
from crm.recyclebin import actions as recyclebin
from crm.recyclebin.actions import Item
from crm.tenancy.context import activate
from customers.models import Contact, Customer, Interaction, Ticket
from sales.models import Opportunity
from tests.factories import RecordMaker, make_member, make_tenant

pytestmark = pytest.mark.django_db(transaction=True)


def run_concurrently(*operations, rounds=1):
    """Run each operation in its own thread and database connection; return their errors."""
    errors, barrier = [], threading.Barrier(len(operations))

    def worker(operation):
        try:
            barrier.wait(timeout=10)
            operation()
        except (RestoreConflict, recyclebin.NotInBin):
            pass  # a clear refusal is a consistent outcome
        except Exception as error:  # any other error is the failure we look for
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(operation,)) for operation in operations]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


def assert_consistent(tenant):
    """No alive child of a deleted customer; every batch wholly in or out of the bin."""
    with activate(tenant):
        for model in (Contact, Interaction, Ticket, Opportunity):
            assert not model.all_objects.filter(deleted_at__isnull=True, customer__deleted_at__isnull=False).exists()


@pytest.fixture
def world():
    tenant = make_tenant("race")
    admin = make_member(tenant, "race-admin", role="admin")
    records = RecordMaker(tenant, admin)
    customers = [records.customer() for _ in range(6)]
    for customer in customers:
        for _ in range(3):
            records.contact(customer)
            records.ticket(customer)
        records.opportunity(customer)
    return tenant, admin, customers


def as_admin(tenant, admin, function, *args):
    def run():
        with activate(tenant, user=admin):
            function(admin, *args)

    return run


def test_two_sessions_deleting_overlapping_customers(world):
    tenant, admin, customers = world
    ids = [customer.pk for customer in customers]
    first = as_admin(
        tenant, admin, lambda user: recyclebin.delete(Customer.objects.filter(pk__in=ids[:4]), acting_user=user)
    )
    second = as_admin(
        tenant, admin, lambda user: recyclebin.delete(Customer.objects.filter(pk__in=ids[2:]), acting_user=user)
    )
    for _ in range(3):
        assert run_concurrently(first, second) == []
    with activate(tenant):
        assert not Customer.objects.exists()
        assert not Contact.objects.exists() and not Ticket.objects.exists()
        batches = set(Contact.deleted.values_list("deletion_batch", flat=True))
        assert len(batches) == 2
    assert_consistent(tenant)


def test_delete_restore_and_purge_racing_on_the_same_rows(world):
    tenant, admin, customers = world
    ids = [customer.pk for customer in customers]
    with activate(tenant, user=admin):
        recyclebin.delete(Customer.objects.filter(pk__in=ids[:3]), acting_user=admin)

    def restore(user):
        recyclebin.restore([Item(Customer, pk) for pk in ids[:2]], acting_user=user)

    def purge(user):
        recyclebin.purge([Item(Customer, ids[1]), Item(Customer, ids[2])], acting_user=user)

    def delete(user):
        recyclebin.delete(Customer.objects.filter(pk__in=ids[3:]), acting_user=user)

    errors = run_concurrently(
        as_admin(tenant, admin, restore), as_admin(tenant, admin, purge), as_admin(tenant, admin, delete)
    )
    assert errors == []
    assert_consistent(tenant)
    with activate(tenant):
        assert not Customer.objects.filter(pk__in=ids[3:]).exists()


def test_restoring_a_child_while_its_parent_is_being_deleted(world):
    tenant, admin, customers = world
    customer = customers[0]
    with activate(tenant, user=admin):
        contact = Contact.objects.filter(customer=customer).first()
        contact.delete()

    def restore_child(user):
        recyclebin.restore([Item(Contact, contact.pk)], acting_user=user)

    def delete_parent(user):
        recyclebin.delete(Customer.objects.filter(pk=customer.pk), acting_user=user)

    for _ in range(3):
        assert run_concurrently(as_admin(tenant, admin, restore_child), as_admin(tenant, admin, delete_parent)) == []
        assert_consistent(tenant)
