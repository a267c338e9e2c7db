"""Backups cover tasks: a purged customer comes back from a backup with its tasks, those on its children too."""

import pytest

from activities.models import Task
from backups.dump import take_backup
from backups.models import RestoreRun
from backups.restore import restore_customer
from crm.recyclebin import actions as recyclebin
from crm.recyclebin.actions import Item
from crm.tenancy.context import activate
from customers.models import Customer
from tests.factories import RecordMaker, make_member, make_tenant

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_purged_customer_comes_back_with_its_tasks():
    tenant = make_tenant("north")
    admin = make_member(tenant, "north-admin", role="admin")
    maker = RecordMaker(tenant, admin)
    customer, other = maker.customer(), maker.customer()
    tasks = [
        maker.task(customer=customer),
        maker.task(contact=maker.contact(customer)),
        maker.task(ticket=maker.ticket(customer)),
        maker.task(opportunity=maker.opportunity(customer)),
    ]
    untouched = maker.task(customer=other)
    backup = take_backup()
    with activate(tenant, user=admin):
        recyclebin.delete(Customer.objects.filter(pk=customer.pk), acting_user=admin)
        recyclebin.purge([Item(Customer, customer.pk)], acting_user=admin)
        assert not Task.all_objects.filter(pk__in=[task.pk for task in tasks]).exists()
        run = restore_customer(backup, tenant, customer.pk)
        assert run.status == RestoreRun.Status.DONE, run.error or run.report
        assert Task.objects.filter(pk__in=[task.pk for task in tasks]).count() == 4
        assert Task.history.filter(id=tasks[1].pk, history_change_reason="restored from backup").exists()
        assert Task.objects.filter(pk=untouched.pk).count() == 1
