"""Claiming a customer from the public pool and releasing one to it: one action each.

A claim makes the claimer the owner, within the company's limits (claims per day,
customers held). Both limits and the customer's being free are decided atomically:
the claimer's claims queue up on a transaction-scoped advisory lock (so two tabs
cannot both take the last claim of the day), and the ownership changes with
`UPDATE ... WHERE owner_id IS NULL` (so of two people claiming one customer at once,
exactly one wins; the other is told it is gone). History ("claimed" / "released") and
the audit event are written in the same transaction. The automatic return to the pool
is pool.reclaim.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.events import record as audit
from audit.models import AuditEvent
from crm.history.bulk import write_bulk_history
from crm.records.versions import NEXT_VERSION
from crm.tenancy.acting import ActionConflict, action
from crm.tenancy.context import current_tenant
from crm.tenancy.querysets import membership_for
from crm.tenancy.roles import Role
from customers.models import Customer
from pool.listing import POOL_ROLES, pool_settings, quota_for
from pool.models import PoolClaim

LOCK_NAMESPACE = 0x504F4F4C  # "POOL": one member's claims queue up on (namespace, user id)


def require_pool_on(tenant):
    """The company's current settings, or ActionConflict when its pool is off."""
    settings = pool_settings(tenant)
    if not settings.pool_enabled:
        raise ActionConflict(_("This company does not use the public pool."), code="pool_off")
    return settings


def _set_owner(customer_id, *, old_owner_id, new_owner, reason: str) -> bool:
    """One UPDATE that changes the owner only if it is still `old_owner_id`; a history row if it did."""
    rows = Customer.objects.filter(pk=customer_id)
    rows = rows.filter(owner__isnull=True) if old_owner_id is None else rows.filter(owner_id=old_owner_id)
    if not rows.update(owner=new_owner, version=NEXT_VERSION, updated_at=timezone.now()):
        return False
    write_bulk_history(Customer, [customer_id], "~", reason)
    return True


@action
def claim_customer(customer_id: int, *, acting_user) -> Customer:
    """Make the acting member the owner of pool customer `customer_id`, within the limits."""
    tenant = current_tenant()
    settings = require_pool_on(tenant)
    membership = membership_for(acting_user)
    if membership is None or membership.role not in POOL_ROLES:
        raise PermissionDenied(_("Only reps, managers and admins claim customers from the pool."))
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_NAMESPACE, acting_user.pk])
        quota = quota_for(acting_user, settings)
        if quota.claims_left <= 0:
            raise ActionConflict(
                _("You have claimed %(count)s customers today, the most a day allows: claim again tomorrow.")
                % {"count": quota.claimed_today},
                code="daily_limit",
            )
        if quota.holds_left <= 0:
            raise ActionConflict(
                _("You hold %(count)s customers, the most allowed: release one to the pool first.")
                % {"count": quota.held},
                code="held_limit",
            )
        if not _set_owner(customer_id, old_owner_id=None, new_owner=acting_user, reason="claimed"):
            raise ActionConflict(
                _("This customer is no longer in the pool: someone else claimed it first."), code="taken"
            )
        PoolClaim.objects.create(tenant=tenant, customer_id=customer_id, user=acting_user, claimed_at=timezone.now())
        customer = Customer.objects.get(pk=customer_id)
        audit(AuditEvent.Action.CLAIMED, target=customer)
    return customer


def may_release(customer: Customer, user) -> bool:
    """The owner releases their customer; managers and admins any owned customer (None: the system)."""
    if user is None:
        return True
    membership = membership_for(user)
    if membership is None:
        return False
    return customer.owner_id == user.pk or membership.role in (Role.ADMIN, Role.MANAGER)


@action
def release_customer(customer: Customer, *, acting_user) -> Customer:
    """Return `customer` to the pool: it has no owner until someone claims it."""
    require_pool_on(current_tenant())
    if not may_release(customer, acting_user):
        raise PermissionDenied(_("Only the owner, managers and admins release a customer to the pool."))
    if customer.owner_id is None:
        raise ActionConflict(_("This customer is already in the pool."), code="in_pool")
    with transaction.atomic():
        previous = customer.owner_id
        if not _set_owner(customer.pk, old_owner_id=previous, new_owner=None, reason="released"):
            raise ActionConflict(_("This customer changed owner meanwhile: reload and try again."), code="changed")
        customer = Customer.objects.get(pk=customer.pk)
        audit(AuditEvent.Action.RELEASED, target=customer, detail={"previous_owner_id": previous})
    return customer
