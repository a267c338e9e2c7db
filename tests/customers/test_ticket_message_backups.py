"""Backups cover ticket conversations: a purged customer comes back with its tickets and their messages."""

import pytest

from backups.dump import take_backup
from backups.models import RestoreRun
from backups.restore import restore_customer
from crm.recyclebin import actions as recyclebin
from crm.recyclebin.actions import Item
from crm.tenancy.context import activate
from customers.models import Customer, TicketMessage
from tests.factories import RecordMaker, make_member, make_tenant

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_purged_customer_comes_back_with_its_ticket_messages():
    tenant = make_tenant("north")
    admin = make_member(tenant, "north-admin", role="admin")
    maker = RecordMaker(tenant, admin)
    customer, other = maker.customer(), maker.customer()
    ticket = maker.ticket(customer)
    messages = [maker.ticketmessage(ticket, kind=kind) for kind in ("customer", "reply", "note")]
    untouched = maker.ticketmessage(maker.ticket(other))
    backup = take_backup()
    with activate(tenant, user=admin):
        recyclebin.delete(Customer.objects.filter(pk=customer.pk), acting_user=admin)
        recyclebin.purge([Item(Customer, customer.pk)], acting_user=admin)
        assert not TicketMessage.all_objects.filter(pk__in=[m.pk for m in messages]).exists()
        run = restore_customer(backup, tenant, customer.pk)
        assert run.status == RestoreRun.Status.DONE, run.error or run.report
        restored = TicketMessage.objects.filter(pk__in=[m.pk for m in messages]).order_by("pk")
        assert [(m.kind, m.body, m.author_id) for m in restored] == [(m.kind, m.body, admin.pk) for m in messages]
        assert TicketMessage.history.filter(id=messages[0].pk, history_change_reason="restored from backup").exists()
        assert TicketMessage.objects.filter(pk=untouched.pk).count() == 1
