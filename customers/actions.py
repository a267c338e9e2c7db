"""Writes to customers, contacts, interactions and tickets: one function per operation."""

from django.db import transaction
from django.utils import timezone

from crm import records
from customers.models import Contact, Customer, CustomerShare, Interaction, Ticket


def create_customer(**values) -> Customer:
    return records.create(Customer, **values)


def update_customer(customer: Customer, **values) -> Customer:
    return records.update(customer, **values)


def create_contact(customer: Customer, **values) -> Contact:
    return records.create(Contact, customer=customer, tenant_id=customer.tenant_id, **values)


def update_contact(contact: Contact, **values) -> Contact:
    return records.update(contact, **values)


def log_interaction(customer: Customer, *, author, occurred_at=None, **values) -> Interaction:
    return records.create(
        Interaction,
        customer=customer,
        tenant_id=customer.tenant_id,
        author=author,
        occurred_at=occurred_at or timezone.now(),
        **values,
    )


def update_interaction(interaction: Interaction, **values) -> Interaction:
    return records.update(interaction, **values)


@transaction.atomic
def share_customer(customer: Customer, user) -> CustomerShare:
    share, _created = CustomerShare.all_objects.get_or_create(
        tenant_id=customer.tenant_id, customer=customer, user=user
    )
    return share


def unshare_customer(customer: Customer, user) -> None:
    CustomerShare.all_objects.filter(tenant_id=customer.tenant_id, customer=customer, user=user).delete()


def ticket_status_values(ticket: Ticket, status: str) -> dict:
    """The fields a status change sets: resolved_at follows the status."""
    values = {"status": status}
    if status in (Ticket.Status.RESOLVED, Ticket.Status.CLOSED):
        values["resolved_at"] = ticket.resolved_at or timezone.now()
    else:
        values["resolved_at"] = None
    return values


def create_ticket(customer: Customer, **values) -> Ticket:
    ticket = Ticket(customer=customer)
    values.update(ticket_status_values(ticket, values.get("status", Ticket.Status.NEW)))
    return records.create(Ticket, customer=customer, tenant_id=customer.tenant_id, **values)


def update_ticket(ticket: Ticket, **values) -> Ticket:
    if "status" in values:
        values.update(ticket_status_values(ticket, values["status"]))
    return records.update(ticket, **values)


def change_ticket_status(ticket: Ticket, status: str) -> Ticket:
    return update_ticket(ticket, status=status)


def assign_ticket(ticket: Ticket, assignee) -> Ticket:
    return records.update(ticket, assignee=assignee)
