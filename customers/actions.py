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
from crm.tenancy.acting import action, member_role
from crm.tenancy.context import current_tenant
from crm.tenancy.models import Membership
from crm.tenancy.roles import Role
from customers import duplicates, merging
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


# The duplicate check at entry: keys the company blocks refuse the save (customers.duplicates).
# A customer's email is unique in the company anyway (its own constraint and message).
CUSTOMER_KEYS_KEPT_ELSEWHERE = ("email",)


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
    values = new_customer_values(values, added_by=acting_user)
    duplicates.refuse_blocked(
        Customer, values, user=acting_user, tenant=current_tenant(), skip=CUSTOMER_KEYS_KEPT_ELSEWHERE
    )
    return records.create(Customer, acting_user=acting_user, **values)


@action
def update_customer(customer: Customer, *, acting_user, **values) -> Customer:
    duplicates.refuse_blocked(
        Customer, values, user=acting_user, tenant=current_tenant(), record=customer, skip=CUSTOMER_KEYS_KEPT_ELSEWHERE
    )
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
    duplicates.refuse_blocked(Contact, values, user=acting_user, tenant=current_tenant(), customer=customer)
    return create_child(Contact, customer, acting_user=acting_user, **values)


@action
def update_contact(contact: Contact, *, acting_user, **values) -> Contact:
    customer = values.get("customer") or contact.customer
    moving = customer.pk != contact.customer_id  # to another customer: every key is checked there
    duplicates.refuse_blocked(
        Contact,
        values,
        user=acting_user,
        tenant=current_tenant(),
        record=None if moving else contact,
        customer=customer,
    )
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


# -- merging duplicates (customers.merging) ------------------------------------------------------------


@action
def merge_records(survivor, others, *, acting_user, choices=None):
    """Merge `others` into `survivor` (customers, or contacts of one customer): `choices` is
    {field: id of the record whose value wins}; children and shares move to the survivor, the
    others go to the recycle bin as one batch. Returns the Merge, which undo_merge reverses."""
    model = type(survivor)
    records.require(acting_user, "change", model, survivor)
    for other in others:
        records.require(acting_user, "delete", model, other)
    sources = merging.validate_selection(model, survivor, others, choices or {})
    with transaction.atomic():
        merge = merging.perform(model, survivor, others, sources, tenant=current_tenant(), user=acting_user)
        audit(
            AuditEvent.Action.MERGED,
            target=survivor,
            batch=merge.batch,
            count=len(merge.merged_ids),
            detail={
                "merge": merge.pk,
                "merged_ids": merge.merged_ids,
                "fields": sorted(merge.before["fields"]),
                "moved": merge.moved_count,
            },
        )
    return merge


@action
def undo_merge(merge, *, acting_user):
    """Put a merge back exactly: children to their former parents, the merged records out of the
    bin, the survivor's values as they were; MergeConflict listing what changed since otherwise."""
    model = merging.MERGEABLE[merge.record_type]
    survivor = model.all_objects.get(pk=merge.survivor_id)
    records.require(acting_user, "change", model, survivor)
    if member_role(acting_user) == Role.REP and merge.created_by_id != acting_user.pk:
        raise PermissionDenied(_("Reps undo only the merges they made."))
    with transaction.atomic():
        merging.undo(merge, tenant=current_tenant(), user=acting_user)
        audit(
            AuditEvent.Action.MERGE_UNDONE,
            target=survivor,
            batch=merge.batch,
            count=len(merge.merged_ids),
            detail={"merge": merge.pk, "merged_ids": merge.merged_ids},
        )
    return merge
