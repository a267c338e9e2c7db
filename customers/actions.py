"""Writes to customers, contacts, interactions and tickets: one function per operation."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Func, Value
from django.utils import timezone
from django.utils.translation import gettext as _

from crm import records
from crm.tenancy.context import current_tenant
from crm.tenancy.models import Membership
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


# -- bulk actions on a selection of customers -----------------------------------------------------
# Each takes a queryset the caller has already restricted with
# `Customer.objects.for_user(user, "change")`, so only rows the user may change
# are touched, and changes them with one UPDATE. (QuerySet.update() writes no
# per-row history: when history arrives, these must bulk-insert it.)


def bulk_assign_owner(customers, owner) -> int:
    """Give every customer in `customers` the owner `owner`; returns how many changed."""
    if owner is not None and not Membership.objects.filter(user=owner, tenant=current_tenant()).exists():
        raise ValidationError(_("The owner must be a member of the company."))
    changed = customers.exclude(owner=owner) if owner is not None else customers.exclude(owner__isnull=True)
    return records.update_many(changed, owner=owner)


def bulk_add_tag(customers, tag: str) -> int:
    """Add `tag` to every customer in `customers` that lacks it; returns how many changed."""
    tag = (tag or "").strip()
    if not tag or len(tag) > 50 or "\x00" in tag:
        raise ValidationError(_("A tag has 1 to 50 characters."))
    tags = Customer._meta.get_field("tags")
    return records.update_many(
        customers.exclude(tags__contains=[tag]),
        tags=Func(F("tags"), Value(tag), function="array_append", output_field=tags),
    )
