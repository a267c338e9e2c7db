"""Writes to customers, contacts, interactions, tickets and shares: one action per operation.

Each takes the acting user as `acting_user` and checks their right through
crm.records.actions (the restricting querysets); a new child record may hang
off a customer only if `parent_choices(acting_user)` holds it.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import F, Func, Value
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.events import record as audit
from audit.models import AuditEvent
from crm.history.bulk import write_bulk_history
from crm.records import actions as records
from crm.tenancy.acting import action
from crm.tenancy.context import current_tenant
from crm.tenancy.models import Membership
from crm.tenancy.roles import Role
from customers.models import PENDING_OVERDUE_SQL, Contact, Customer, CustomerShare, Interaction, Ticket, TicketMessage


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


@action
def create_customer(*, acting_user, **values) -> Customer:
    values.setdefault("owner", acting_user)
    return records.create(Customer, acting_user=acting_user, **values)


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
    values.update(ticket_status_values(Ticket(customer=customer), values.get("status", Ticket.Status.NEW)))
    return create_child(Ticket, customer, acting_user=acting_user, **values)


@action
def update_ticket(ticket: Ticket, *, acting_user, **values) -> Ticket:
    if "status" in values:
        values.update(ticket_status_values(ticket, values["status"]))
    if "due_at" in values and values["due_at"] != ticket.due_at:
        values["overdue_notified_at"] = None  # a new due time: its passing is news again
    return update_child(ticket, acting_user=acting_user, **values)


@action
def change_ticket_status(ticket: Ticket, status: str, *, acting_user, expected_version=None) -> Ticket:
    """`expected_version`: the version the person saw (VersionConflict when the ticket moved on)."""
    if expected_version is not None:
        ticket.seen_version = expected_version
    return update_ticket(ticket, status=status, acting_user=acting_user)


@action
def assign_ticket(ticket: Ticket, assignee, *, acting_user, expected_version=None) -> Ticket:
    return records.update(ticket, assignee=assignee, acting_user=acting_user, expected_version=expected_version)


# -- a ticket's conversation ----------------------------------------------------------------------------


@action
def add_ticket_message(ticket: Ticket, kind: str, body: str, *, acting_user, **values) -> TicketMessage:
    """A reply, an internal note or a logged customer reply; its author is whoever adds it.

    The first reply to the customer sets the ticket's first response time. A reply (the
    customer's, logged, or a colleague's) notifies the ticket's assignee, unless they wrote it.
    """
    if "author" in values:
        raise ValidationError({"author": _("The author of a message is whoever adds it.")})
    records.require(acting_user, "add", TicketMessage)
    if acting_user is not None and not Ticket.objects.for_user(acting_user, "view").filter(pk=ticket.pk).exists():
        raise ValidationError({"ticket": _("That ticket is not visible to you.")})
    with transaction.atomic():
        message = records.create(
            TicketMessage,
            ticket=ticket,
            tenant_id=ticket.tenant_id,
            kind=kind,
            body=body,
            author=acting_user,
            acting_user=acting_user,
            **values,
        )
        if kind in TicketMessage.AGENT_REPLIES:
            # Read under the ticket's lock: of two first replies at once, the earlier one counts.
            answered = (
                Ticket.all_objects.filter(pk=ticket.pk)
                .select_for_update(of=("self",))
                .values_list("first_response_at", flat=True)
                .first()
            )
            if answered is None:
                # Whoever may add messages may change the tickets they see (the roles' rights agree).
                records.update(ticket, first_response_at=message.created_at, acting_user=acting_user)
        if (
            kind != TicketMessage.Kind.NOTE
            and ticket.assignee_id
            and ticket.assignee_id != getattr(acting_user, "pk", None)
        ):
            from activities.models import Kind
            from activities.notify import deliver

            deliver([(ticket.assignee_id, "ticket", ticket.pk, ticket.subject)], Kind.TICKET_REPLY)
    return message


@action
def update_ticket_message(message: TicketMessage, *, acting_user, **values) -> TicketMessage:
    """Correct a message's text; its ticket, kind and author stay as they were."""
    for name in ("ticket", "kind", "author"):
        if name in values and values.pop(name) != getattr(message, name):
            raise ValidationError({name: _("This cannot be changed once the message is written.")})
    return records.update(message, acting_user=acting_user, **values)


# Claim the overdue tickets and mark them in one statement: each is returned to exactly one
# caller, however many workers run the job or run it again after a restart. The partial index
# ticket_overdue_pending holds exactly the tickets still waiting.
_CLAIM_OVERDUE = f"""
UPDATE customers_ticket SET overdue_notified_at = %(now)s
WHERE tenant_id = %(tenant)s AND due_at <= %(now)s AND {PENDING_OVERDUE_SQL}
RETURNING id, assignee_id, subject
"""


@action
def notify_overdue_tickets(now=None, *, acting_user) -> int:
    """The active company's open tickets that passed their due time: their assignee is told, once."""
    from activities.models import Kind
    from activities.notify import deliver

    tenant = current_tenant()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(_CLAIM_OVERDUE, {"now": now or timezone.now(), "tenant": tenant.pk})
            claimed = cursor.fetchall()
        if not claimed:
            return 0
        ids = sorted(row[0] for row in claimed)
        write_bulk_history(Ticket, ids, "~", "overdue notice")
        deliver(
            [(assignee, "ticket", pk, subject) for pk, assignee, subject in claimed if assignee], Kind.TICKET_OVERDUE
        )
        audit(
            AuditEvent.Action.UPDATE,
            object_type="ticket",
            count=len(ids),
            detail={"ids": ids[: records.IDS_IN_EVENT], "fields": ["overdue_notified_at"]},
        )
    return len(claimed)


# -- bulk actions on a selection of customers -----------------------------------------------------
# One set-based UPDATE over the selected rows the acting user may change, with a
# history row each and one audit event (crm.records.actions.update_many).


# A bulk assignment of up to this many customers notifies the new owner of each; more, with one summary.
ASSIGNED_ONE_BY_ONE = 10


@action
def bulk_assign_owner(customers, owner, *, acting_user) -> int:
    """Give every customer in `customers` the owner `owner`; returns how many changed."""
    if owner is not None and not Membership.objects.filter(user=owner, tenant=current_tenant()).exists():
        raise ValidationError(_("The owner must be a member of the company."))
    changed = customers.exclude(owner=owner) if owner is not None else customers.exclude(owner__isnull=True)
    with transaction.atomic():
        allowed = (
            changed if acting_user is None else changed.filter(pk__in=Customer.objects.for_user(acting_user, "change"))
        )
        first = list(allowed.order_by("pk").values_list("pk", flat=True)[: ASSIGNED_ONE_BY_ONE + 1])
        count = records.update_many(changed, owner=owner, acting_user=acting_user)
        if count and owner is not None and owner != acting_user:
            _tell_new_owner(owner, count, first)
    return count


def _tell_new_owner(owner, count: int, first: list[int]) -> None:
    """The new owner hears of a bulk assignment as of single ones (activities.notify, kind assigned):
    a notification per customer up to ASSIGNED_ONE_BY_ONE of them, else one saying how many."""
    from activities import notify
    from activities.models import Kind

    if count <= ASSIGNED_ONE_BY_ONE:
        rows = Customer.objects.filter(pk__in=first, owner=owner).order_by("pk").values_list("pk", "name")
        notify.deliver([(owner.pk, "customer", pk, name) for pk, name in rows], Kind.ASSIGNED)
    else:
        notify.deliver([(owner.pk, "customer", None, str(count))], Kind.ASSIGNED)


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
