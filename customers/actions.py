"""Writes to customers, contacts, interactions, tickets and shares: one action per operation.

Each takes the acting user as `acting_user` and checks their right through
crm.records.actions (the restricting querysets); a new child record may hang
off a customer only if `parent_choices(acting_user)` holds it.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Func, Value
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.events import record as audit
from audit.models import AuditEvent
from crm.records import actions as records
from crm.tenancy.acting import action
from crm.tenancy.context import current_tenant
from crm.tenancy.models import Membership
from crm.tenancy.roles import Role
from customers.models import Contact, Customer, CustomerShare, Interaction, Ticket


def parent_choices(user):
    """The customers a new contact, interaction, ticket or opportunity may hang off: those the user
    can see. (Whether they may add that kind of record at all is their role's right.)"""
    return Customer.objects.for_user(user, "view").order_by("name", "id")


def check_parent(customer, user) -> None:
    """ValidationError unless `customer` is one of `parent_choices(user)` (None, the system: any)."""
    if user is not None and not parent_choices(user).filter(pk=customer.pk).exists():
        raise ValidationError({"customer": _("That customer is not visible to you.")})


@action
def create_child(model, customer, *, acting_user, **values):
    """A record hanging off `customer` (shared by every child type, sales' opportunities too)."""
    records.require(acting_user, "add", model)
    check_parent(customer, acting_user)
    return records.create(model, customer=customer, tenant_id=customer.tenant_id, acting_user=acting_user, **values)


@action
def update_child(record, *, acting_user, **values):
    """Change a child record; moving it to another customer follows the same rule as creating it."""
    customer = values.get("customer")
    if customer is not None and customer.pk != record.customer_id:
        records.require(acting_user, "change", type(record), record)
        check_parent(customer, acting_user)
    return records.update(record, acting_user=acting_user, **values)


# -- customers ------------------------------------------------------------------------------------


def owner_unless_given(values: dict, added_by) -> None:
    """A new record's owner is whoever adds it, unless `values` name one (as `owner` or `owner_id`)."""
    if "owner" not in values and "owner_id" not in values:
        values["owner"] = added_by


# The derived values of a new record: what the rules fill in besides what was entered. One
# function per type, called by its create action and by the importer (imports.apply) alike,
# so the two cannot drift; foreign keys may come as objects or as `*_id`.


def new_customer_values(values: dict, *, added_by) -> dict:
    owner_unless_given(values, added_by)
    return values


def new_ticket_values(values: dict, *, added_by) -> dict:
    values.update(ticket_status_values(Ticket(), values.get("status", Ticket.Status.NEW)))
    return values


@action
def create_customer(*, acting_user, **values) -> Customer:
    return records.create(Customer, acting_user=acting_user, **new_customer_values(values, added_by=acting_user))


@action
def update_customer(customer: Customer, *, acting_user, **values) -> Customer:
    return records.update(customer, acting_user=acting_user, **values)


def may_share(customer, user, role) -> bool:
    """Owner, managers and admins share a customer (and end a share)."""
    return role in (Role.ADMIN, Role.MANAGER) or (role == Role.REP and customer.owner_id == user.pk)


def _check_may_share(customer, user) -> None:
    if user is None:
        return
    membership = Membership.objects.filter(tenant_id=customer.tenant_id, user=user).first()
    if not may_share(customer, user, membership.role if membership else None):
        raise PermissionDenied(_("Only the owner, managers and admins may share this customer."))


@action
def share_customer(customer: Customer, user, *, acting_user) -> CustomerShare:
    """Let a member who does not own the customer see it (reps see shared customers)."""
    _check_may_share(customer, acting_user)
    if not Membership.objects.filter(tenant_id=customer.tenant_id, user=user).exists():
        raise ValidationError({"user": _("Customers can be shared with members of the company only.")})
    if user.pk == customer.owner_id:
        raise ValidationError({"user": _("The owner already sees this customer.")})
    with transaction.atomic():
        share = CustomerShare.all_objects.filter(tenant_id=customer.tenant_id, customer=customer, user=user).first()
        if share is None:
            share = CustomerShare.all_objects.create(tenant_id=customer.tenant_id, customer=customer, user=user)
            audit(AuditEvent.Action.SHARE, target=customer, detail={"user_id": user.pk})
    return share


@action
def unshare_customer(customer: Customer, user, *, acting_user) -> None:
    _check_may_share(customer, acting_user)
    with transaction.atomic():
        shares = CustomerShare.all_objects.filter(tenant_id=customer.tenant_id, customer=customer, user=user)
        if shares.exists():
            for share in shares:  # one by one: simple-history records each removal
                share.delete()
            audit(AuditEvent.Action.UNSHARE, target=customer, detail={"user_id": user.pk})


# -- contacts and interactions ------------------------------------------------------------------------


@action
def create_contact(customer: Customer, *, acting_user, **values) -> Contact:
    return create_child(Contact, customer, acting_user=acting_user, **values)


@action
def update_contact(contact: Contact, *, acting_user, **values) -> Contact:
    return update_child(contact, acting_user=acting_user, **values)


@action
def log_interaction(customer: Customer, *, acting_user, occurred_at=None, **values) -> Interaction:
    """Record a call, email, meeting or note; its author is whoever logs it."""
    if "author" in values:
        raise ValidationError({"author": _("The author of an interaction is whoever logs it.")})
    return create_child(
        Interaction,
        customer,
        acting_user=acting_user,
        author=acting_user,
        occurred_at=occurred_at or timezone.now(),
        **values,
    )


@action
def update_interaction(interaction: Interaction, *, acting_user, **values) -> Interaction:
    if "author" in values and values["author"] != interaction.author:
        raise ValidationError({"author": _("The author of an interaction cannot be changed.")})
    values.pop("author", None)
    return update_child(interaction, acting_user=acting_user, **values)


# -- tickets ------------------------------------------------------------------------------------------


def ticket_status_values(ticket: Ticket, status: str) -> dict:
    """The fields a status change sets: resolved_at follows the status."""
    values = {"status": status}
    if status in (Ticket.Status.RESOLVED, Ticket.Status.CLOSED):
        values["resolved_at"] = ticket.resolved_at or timezone.now()
    else:
        values["resolved_at"] = None
    return values


@action
def create_ticket(customer: Customer, *, acting_user, **values) -> Ticket:
    new_ticket_values(values, added_by=acting_user)
    return create_child(Ticket, customer, acting_user=acting_user, **values)


@action
def update_ticket(ticket: Ticket, *, acting_user, **values) -> Ticket:
    if "status" in values:
        values.update(ticket_status_values(ticket, values["status"]))
    return update_child(ticket, acting_user=acting_user, **values)


@action
def change_ticket_status(ticket: Ticket, status: str, *, acting_user) -> Ticket:
    return update_ticket(ticket, status=status, acting_user=acting_user)


@action
def assign_ticket(ticket: Ticket, assignee, *, acting_user) -> Ticket:
    return records.update(ticket, assignee=assignee, acting_user=acting_user)


# -- bulk actions on a selection of customers -----------------------------------------------------
# One set-based UPDATE over the selected rows the acting user may change, with a
# history row each and one audit event (crm.records.actions.update_many).


@action
def bulk_assign_owner(customers, owner, *, acting_user) -> int:
    """Give every customer in `customers` the owner `owner`; returns how many changed."""
    if owner is not None and not Membership.objects.filter(user=owner, tenant=current_tenant()).exists():
        raise ValidationError(_("The owner must be a member of the company."))
    changed = customers.exclude(owner=owner) if owner is not None else customers.exclude(owner__isnull=True)
    return records.update_many(changed, owner=owner, acting_user=acting_user)


@action
def bulk_add_tag(customers, tag: str, *, acting_user) -> int:
    """Add `tag` to every customer in `customers` that lacks it; returns how many changed."""
    tag = (tag or "").strip()
    if not tag or len(tag) > 50 or "\x00" in tag:
        raise ValidationError(_("A tag has 1 to 50 characters."))
    tags = Customer._meta.get_field("tags")
    return records.update_many(
        customers.exclude(tags__contains=[tag]),
        tags=Func(F("tags"), Value(tag), function="array_append", output_field=tags),
        acting_user=acting_user,
    )
