"""Verifying and pruning the per-tenant hash chains."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection, transaction

from audit.events import GENESIS, _lock_chain, chain_hash, record
from audit.models import AuditEvent


@dataclass
class ChainReport:
    checked: int = 0
    broken_event_id: int | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_event_id is None


def anchors(tenant_id) -> set[str]:
    """Hashes a chain may start from after a sanctioned prune (recorded by checkpoints)."""
    checkpoints = AuditEvent.objects.filter(tenant_id=tenant_id, action=AuditEvent.Action.CHECKPOINT)
    return {event.detail.get("anchor_hash") for event in checkpoints} | {GENESIS}


def verify_chain(tenant_id, report: ChainReport | None = None) -> ChainReport:
    report = report or ChainReport()
    events = AuditEvent.objects.filter(tenant_id=tenant_id).order_by("seq")
    previous = None
    for event in events.iterator(chunk_size=2000):
        expected_prev = previous.hash if previous else None
        if previous is None:
            if event.prev_hash not in anchors(tenant_id):
                report.broken_event_id, report.reason = event.pk, "chain does not start at a known anchor"
                return report
        elif event.seq != previous.seq + 1 or event.prev_hash != expected_prev:
            report.broken_event_id, report.reason = event.pk, "link to the previous event is broken"
            return report
        if chain_hash(event.prev_hash, event) != event.hash:
            report.broken_event_id, report.reason = event.pk, "hash does not match the event"
            return report
        report.checked += 1
        previous = event
    return report


def tenant_ids_with_events() -> list:
    return list(AuditEvent.objects.order_by().values_list("tenant_id", flat=True).distinct())


@transaction.atomic
def prune(tenant, before) -> int:
    """Drop a tenant's events older than `before`: the one sanctioned delete.

    First appends a checkpoint naming what goes and the hash the remaining
    chain starts from; then deletes under a transaction-local switch that
    the append-only trigger honours.
    """
    tenant_id = getattr(tenant, "pk", tenant)
    _lock_chain(tenant_id)
    old = AuditEvent.objects.filter(tenant_id=tenant_id, created_at__lt=before).exclude(
        action=AuditEvent.Action.CHECKPOINT
    )
    last_old = old.order_by("-seq").first()
    if last_old is None:
        return 0
    first_kept = AuditEvent.objects.filter(tenant_id=tenant_id, seq__gt=last_old.seq).order_by("seq").first()
    record(
        AuditEvent.Action.CHECKPOINT,
        tenant=tenant,
        detail={
            "pruned_through_seq": last_old.seq,
            "anchor_hash": first_kept.prev_hash if first_kept else last_old.hash,
        },
    )
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL crm.audit_prune = 'on'")
        deleted, _ = AuditEvent.objects.filter(tenant_id=tenant_id, seq__lte=last_old.seq).delete()
        cursor.execute("SET LOCAL crm.audit_prune = 'off'")
    return deleted
