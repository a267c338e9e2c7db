"""The erasure report: what one erasure took away, and proof, computed now, that no value is left.

For each record type erased: the live table (rows still alive), the recycle bin (rows
still deleted but kept) and the history table (rows kept, and how many still hold a
personal value). Every count of what is left must be 0. The report names the audit
event and checks that its stored hash still matches its recorded content.
"""

from __future__ import annotations

from django.utils import timezone

from audit.events import chain_hash
from audit.models import AuditEvent
from crm.records.erasure import MARK, history_rows, holds_value, personal_fields
from crm.records.registry import record_models
from privacy.models import Erasure


def erasures():
    """The active company's erasures, newest first: one row per audit event."""
    rows = {}
    for entry in Erasure.objects.order_by("-erased_at", "event_id", "record_type", "record_id"):
        summary = rows.setdefault(
            entry.event_id,
            {"event_id": entry.event_id, "erased_at": entry.erased_at, "erased_by": entry.erased_by, "counts": {}},
        )
        summary["counts"][entry.record_type] = summary["counts"].get(entry.record_type, 0) + 1
        if "record_type" not in summary:
            summary["record_type"], summary["record_id"] = entry.record_type, entry.record_id
    return list(rows.values())


def _root(entries: list[Erasure], event: AuditEvent) -> tuple[str, int]:
    return event.object_type, int(event.object_id) if event.object_id else entries[0].record_id


def _tables(model, tenant_id, ids) -> list[dict]:
    fields = [field.name for field in personal_fields(model)]
    live = model.all_objects.filter(tenant_id=tenant_id, pk__in=ids)
    history = history_rows(model, [tenant_id], ids)
    return [
        {"table": model._meta.db_table, "kind": "live", "rows_left": live.filter(deleted_at__isnull=True).count()},
        {"table": model._meta.db_table, "kind": "bin", "rows_left": live.filter(deleted_at__isnull=False).count()},
        {
            "table": model.history.model._meta.db_table,
            "kind": "history",
            "rows_kept": history.count(),
            "fields": [*fields, "history_change_reason"],
            "values_left": history.filter(holds_value(model)).count(),
        },
    ]


def erasure_report(event_id) -> dict | None:
    """The report of the active company's erasure recorded by audit event `event_id` (None: no such one)."""
    entries = list(Erasure.objects.filter(event_id=event_id).order_by("record_type", "record_id"))
    event = AuditEvent.objects.filter(pk=event_id, action=AuditEvent.Action.ERASED).first()
    if not entries or event is None:
        return None
    tenant_id = entries[0].tenant_id
    by_type: dict[str, list[int]] = {}
    for entry in entries:
        by_type.setdefault(entry.record_type, []).append(entry.record_id)
    tables = [
        table
        for name, model in record_models().items()
        if name in by_type
        for table in _tables(model, tenant_id, by_type[name])
    ]
    root_type, root_id = _root(entries, event)
    left = sum(table.get("rows_left", 0) + table.get("values_left", 0) for table in tables)
    return {
        "record_type": root_type,
        "record_id": root_id,
        "erased": {name: len(ids) for name, ids in by_type.items()},
        "ids": by_type,
        "erased_at": entries[0].erased_at.isoformat(),
        "erased_by": event.actor_username or event.process,
        "marker": MARK,
        "audit_event": {
            "id": event.pk,
            "seq": event.seq,
            "hash": event.hash,
            "ledger_hash": entries[0].event_hash,
            "hash_verified": event.hash == entries[0].event_hash == chain_hash(event.prev_hash, event),
        },
        "tables": tables,
        "left": left,
        "complete": left == 0,
        "checked_at": timezone.now().isoformat(),
    }
