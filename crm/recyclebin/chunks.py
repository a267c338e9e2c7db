"""Purging in chunks under the company's lock, each chunk checking legal hold first.

A hold switched on while a long purge runs (the nightly retention, "Empty the
recycle bin") stops it at the next chunk: each chunk takes the company's bin
lock and reads the hold with a row lock on the company, which
crm.tenancy.actions.update_tenant_settings needs too. So switching the hold on
waits for at most the chunk in flight, and every later chunk sees it.
"""

from __future__ import annotations

from django.db import transaction

from audit.events import record as audit
from audit.models import AuditEvent
from crm.records import purge as purging
from crm.records.actions import IDS_IN_EVENT
from crm.records.softdelete import lock_tenant
from crm.tenancy.models import Tenant

CHUNK = 1000


class HoldCameOn(Exception):
    """Legal hold is on: the chunk purged nothing."""


def hold_is_on(tenant_id) -> bool:
    """The company's legal hold, read in the caller's transaction and kept from changing until it ends."""
    rows = Tenant.objects.select_for_update(no_key=True).filter(pk=tenant_id)
    return rows.values_list("legal_hold", flat=True).get()


def in_bin(model, tenant_id, ids) -> list[int]:
    """Which of `ids` are still in the bin (another purge or a restore may have taken them)."""
    rows = model.all_objects.filter(tenant_id=tenant_id, pk__in=ids, deleted_at__isnull=False)
    return sorted(rows.values_list("pk", flat=True))


def purge_chunk(model, tenant_id, ids, *, event: str, **detail) -> dict[str, int]:
    """Purge what is left of `ids` in one transaction, under the company's lock; one event for what
    was really purged, none when nothing was. Raises HoldCameOn (nothing purged) under legal hold."""
    with transaction.atomic():
        lock_tenant(tenant_id)
        if hold_is_on(tenant_id):
            raise HoldCameOn
        present = in_bin(model, tenant_id, ids)
        if not present:
            return {}
        counts = purging.purge_rows(model, present)
        audit(
            event,
            tenant=tenant_id,
            object_type=model._meta.model_name,
            object_id=present[0] if len(present) == 1 else "",
            count=sum(counts.values()),
            detail={"ids": present[:IDS_IN_EVENT], "counts": dict(counts), **ended(counts), **detail},
        )
    return counts


def ended(counts) -> dict:
    """The audit detail of the purge grants a restore or purge ended (nothing when none)."""
    return {"grants_ended": counts.grants_ended} if getattr(counts, "grants_ended", 0) else {}


def record_stopped_by_hold(tenant_id, attempted: str) -> None:
    audit(AuditEvent.Action.REFUSED, tenant=tenant_id, detail={"attempted": attempted, "reason": "legal_hold"})
