"""The automatic return to the pool: warn the owners of idle customers, then reclaim them. Set-based.

A customer is idle when its owner logged no interaction with it for the company's
`pool_reclaim_days`. Its last activity is the newest of: the owner's newest alive
interaction with it, the owner's newest claim of it, the customer's creation. The
owner is warned (notification `pool_reclaim`, a PoolWarning row) once per idle spell,
`pool_warn_days` before the end; an interaction or a new claim after the warning
starts a new spell. A customer returns to the pool once its spell has lasted the full
`pool_reclaim_days` and its owner was warned at least `pool_warn_days` before, so
nobody loses a customer without notice (one given to a rep long after its last
interaction is warned first, and returns `pool_warn_days` later).

A run is one statement over the company's customers (a materialized CTE of the idle
ones, then UPDATE ... FROM and INSERT ... SELECT; the correlated subqueries use
tenant-first indexes), never a loop per customer; the history rows are one
INSERT ... SELECT, and there is one audit event.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone

from activities.models import Kind
from activities.notify import deliver
from audit.events import record as audit
from audit.models import AuditEvent
from crm.history.bulk import write_bulk_history
from crm.records.actions import IDS_IN_EVENT
from crm.tenancy.acting import action
from crm.tenancy.context import current_tenant
from customers.models import Customer
from pool.listing import pool_settings

LOCK_NAMESPACE = 0x52434C4D  # "RCLM": one reclaim run per company at a time
NOTIFY_CHUNK = 5000

# The owned customers idle since before %(warn_since)s, with their last activity.
IDLE = """
SELECT * FROM (
    SELECT c.id, c.owner_id, GREATEST(
        c.created_at,
        (SELECT max(i.occurred_at) FROM customers_interaction i
          WHERE i.tenant_id = c.tenant_id AND i.customer_id = c.id
            AND i.author_id = c.owner_id AND i.deleted_at IS NULL),
        (SELECT max(p.claimed_at) FROM pool_poolclaim p
          WHERE p.tenant_id = c.tenant_id AND p.customer_id = c.id AND p.user_id = c.owner_id)
    ) AS last_activity
    FROM customers_customer c
    WHERE c.tenant_id = %(tenant)s AND c.owner_id IS NOT NULL AND c.deleted_at IS NULL
      AND c.created_at < %(warn_since)s
) AS spells
WHERE last_activity < %(warn_since)s
"""

# A warning that belongs to the customer's present idle spell (given after its last activity).
WARNED = """
SELECT 1 FROM pool_poolwarning w
WHERE w.tenant_id = %(tenant)s AND w.customer_id = idle.id AND w.user_id = idle.owner_id
  AND w.warned_at > idle.last_activity
"""

# One statement, one pass over the company's customers: the idle ones are found once; those
# idle for the full time and warned long enough ago lose their owner, the others not yet
# warned in this spell get a warning row. (A reclaimed one has its warning: it is not warned again.)
RUN = f"""
WITH idle AS MATERIALIZED ({IDLE}),
due AS (
    SELECT idle.id, idle.owner_id FROM idle
    WHERE idle.last_activity < %(reclaim_since)s AND EXISTS ({WARNED} AND w.warned_at <= %(warned_by)s)
),
reclaimed AS (
    UPDATE customers_customer c SET owner_id = NULL, version = c.version + 1, updated_at = %(now)s
    FROM due
    WHERE c.tenant_id = %(tenant)s AND c.id = due.id AND c.owner_id = due.owner_id AND c.deleted_at IS NULL
    RETURNING c.id, due.owner_id
),
warned AS (
    INSERT INTO pool_poolwarning (tenant_id, customer_id, user_id, warned_at)
    SELECT %(tenant)s, idle.id, idle.owner_id, %(now)s FROM idle WHERE NOT EXISTS ({WARNED})
    RETURNING customer_id, user_id
)
SELECT true, id, owner_id FROM reclaimed
UNION ALL
SELECT false, customer_id, user_id FROM warned
"""


@dataclass(frozen=True)
class ReclaimResult:
    reclaimed: int = 0
    warned: int = 0


def _run(sql: str, **params) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


@action
def reclaim_idle(*, acting_user, now=None) -> ReclaimResult:
    """The active company's run: reclaim the idle customers whose owners were warned, then warn the
    owners of customers about to be. Nothing when the pool is off or another run holds the company."""
    tenant = current_tenant()
    settings = pool_settings(tenant)
    if not settings.pool_enabled:
        return ReclaimResult()
    now = now or timezone.now()
    with transaction.atomic():
        if not _run("SELECT pg_try_advisory_xact_lock(%(ns)s, %(tenant)s)", ns=LOCK_NAMESPACE, tenant=tenant.pk)[0][0]:
            return ReclaimResult()
        rows = _run(
            RUN,
            tenant=tenant.pk,
            now=now,
            warn_since=now - timedelta(days=settings.pool_reclaim_days - settings.pool_warn_days),
            reclaim_since=now - timedelta(days=settings.pool_reclaim_days),
            warned_by=now - timedelta(days=settings.pool_warn_days),
        )
        reclaimed = [(customer_id, owner_id) for is_reclaim, customer_id, owner_id in rows if is_reclaim]
        warned = [(customer_id, owner_id) for is_reclaim, customer_id, owner_id in rows if not is_reclaim]
        if reclaimed:
            ids = sorted(row[0] for row in reclaimed)
            write_bulk_history(Customer, ids, "~", "reclaimed")
            owners = Counter(row[1] for row in reclaimed)
            audit(
                AuditEvent.Action.RECLAIMED,
                object_type="customer",
                count=len(ids),
                detail={
                    "ids": ids[:IDS_IN_EVENT],
                    "owners": {str(owner): count for owner, count in sorted(owners.items())},
                    "days": settings.pool_reclaim_days,
                },
            )
        _notify(warned)
    return ReclaimResult(reclaimed=len(reclaimed), warned=len(warned))


def _notify(warned: list[tuple]) -> None:
    """One pool_reclaim notification per warning, inserted in chunks (names read per chunk)."""
    for start in range(0, len(warned), NOTIFY_CHUNK):
        chunk = warned[start : start + NOTIFY_CHUNK]
        names = dict(Customer.all_objects.filter(pk__in=[row[0] for row in chunk]).values_list("pk", "name"))
        deliver(
            [(user_id, "customer", customer_id, names.get(customer_id, "")) for customer_id, user_id in chunk],
            Kind.POOL_RECLAIM,
        )
