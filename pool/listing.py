"""Reads of the public pool: its customers (the pool's columns only) and a member's quota.

The pool is a separate, limited read: customers.querysets keeps a rep's ordinary reads to
the customers they own or that are shared with them, so a pool customer's notes,
contacts, interactions and deals stay out of their reach; here they get exactly
id, name, industry and last activity, as plain values, never model instances.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time

from django.db.models import DateTimeField, Max, OuterRef, Subquery
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from crm.tenancy.models import Tenant
from crm.tenancy.querysets import membership_for
from crm.tenancy.roles import Role
from customers.models import Customer, Interaction
from pool.models import PoolClaim

# Who works the pool: claims, and sees its customers.
POOL_ROLES = frozenset({Role.ADMIN, Role.MANAGER, Role.REP})
POOL_FIELDS = ("id", "name", "industry", "last_activity")


def pool_settings(tenant) -> Tenant:
    """The company's row as it is now (the request's copy may predate a settings change)."""
    return Tenant.objects.get(pk=tenant.pk)


def may_work_pool(user) -> bool:
    membership = membership_for(user)
    return membership is not None and membership.role in POOL_ROLES


def pool_columns(customers=None):
    """`customers` (default: all of the active company's alive ones) as dicts of POOL_FIELDS.

    Last activity: the newest interaction with the customer, else when it was created.
    One query (a correlated subquery on the interactions' tenant-first timeline index).
    """
    newest = (
        Interaction.objects.filter(customer=OuterRef("pk"))
        .order_by()
        .values("customer")
        .annotate(newest=Max("occurred_at"))
        .values("newest")
    )
    customers = Customer.objects.all() if customers is None else customers
    return customers.annotate(
        last_activity=Greatest(Coalesce(Subquery(newest, output_field=DateTimeField()), "created_at"), "created_at")
    ).values(*POOL_FIELDS)


def pool_customers():
    """The active company's pool: alive customers without an owner, by name, as dicts of POOL_FIELDS."""
    return pool_columns(Customer.objects.filter(owner__isnull=True)).order_by("name", "id")


def start_of_today() -> datetime:
    """Midnight of today in the active time zone (the person's, in a request): a day of claims."""
    today = timezone.localdate()
    return timezone.make_aware(datetime.combine(today, time.min), timezone.get_current_timezone())


@dataclass(frozen=True)
class Quota:
    claims_per_day: int
    claimed_today: int
    max_held: int
    held: int

    @property
    def claims_left(self) -> int:
        return max(0, self.claims_per_day - self.claimed_today)

    @property
    def holds_left(self) -> int:
        return max(0, self.max_held - self.held)

    @property
    def remaining(self) -> int:
        """How many more customers the member may claim now."""
        return min(self.claims_left, self.holds_left)


def quota_for(user, settings: Tenant) -> Quota:
    """The member's limits and what they used: claims since midnight, alive customers they own."""
    return Quota(
        claims_per_day=settings.pool_claims_per_day,
        claimed_today=PoolClaim.objects.filter(user=user, claimed_at__gte=start_of_today()).count(),
        max_held=settings.pool_max_held,
        held=Customer.objects.filter(owner=user).count(),
    )
