"""Verifying and pruning the hash chains: one per tenant (AuditEvent), one for the system (SystemEvent).

A chain is named by its tenant id; None names the system chain.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection, transaction

from audit.events import GENESIS, _lock_chain, append, chain_events, chain_hash
from audit.models import Action, AuditEvent, SystemEvent
from crm.tenancy.context import get_context


@dataclass
class ChainReport:
    checked: int = 0
    broken_event_id: int | None = None
    broken_in_system_chain: bool = False
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_event_id is None

    @property
    def broken_event(self) -> str:
        """How to name the broken event: ids are per table."""
        return (
            f"system event {self.broken_event_id}" if self.broken_in_system_chain else f"event {self.broken_event_id}"
        )


def anchors(tenant_id) -> set[str]:
    """Hashes a chain may start from after a sanctioned prune (recorded by checkpoints)."""
    checkpoints = chain_events(tenant_id).filter(action=Action.CHECKPOINT)
    return {event.detail.get("anchor_hash") for event in checkpoints} | {GENESIS}


def verify_chain(tenant_id, report: ChainReport | None = None) -> ChainReport:
    report = report or ChainReport()

    def broken(event, reason):
        report.broken_event_id, report.reason = event.pk, reason
        report.broken_in_system_chain = tenant_id is None
        return report

    previous = None
    for event in chain_events(tenant_id).order_by("seq").iterator(chunk_size=2000):
        if previous is None:
            if event.prev_hash not in anchors(tenant_id):
                return broken(event, "chain does not start at a known anchor")
        elif event.seq != previous.seq + 1 or event.prev_hash != previous.hash:
            return broken(event, "link to the previous event is broken")
        if chain_hash(event.prev_hash, event) != event.hash:
            return broken(event, "hash does not match the event")
        report.checked += 1
        previous = event
    return report


def tenant_ids_with_events() -> list:
    return list(AuditEvent.objects.order_by("tenant_id").values_list("tenant_id", flat=True).distinct())


def chains_with_events() -> list:
    """Every chain that holds events: the tenants' ids, then None for the system chain."""
    return tenant_ids_with_events() + ([None] if SystemEvent.objects.exists() else [])


@transaction.atomic
def prune(tenant, before) -> int:
    """Drop a chain's events older than `before`: the one sanctioned delete.

    `tenant`: a tenant (or its id), or None for the system chain. First appends a
    checkpoint naming what goes and the hash the remaining chain starts from; then
    deletes under a transaction-local switch that the append-only triggers honour.
    """
    tenant_id = getattr(tenant, "pk", tenant)
    _lock_chain(tenant_id)
    events = chain_events(tenant_id)
    last_old = events.filter(created_at__lt=before).exclude(action=Action.CHECKPOINT).order_by("-seq").first()
    if last_old is None:
        return 0
    first_kept = events.filter(seq__gt=last_old.seq).order_by("seq").first()
    append(
        tenant_id,
        Action.CHECKPOINT,
        actor=get_context().user,
        detail={
            "pruned_through_seq": last_old.seq,
            "anchor_hash": first_kept.prev_hash if first_kept else last_old.hash,
        },
    )
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL crm.audit_prune = 'on'")
        deleted, _ = events.filter(seq__lte=last_old.seq).delete()
        cursor.execute("SET LOCAL crm.audit_prune = 'off'")
    return deleted
