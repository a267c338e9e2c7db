"""The one hook: every audit event a write leaves (audit.events.append) is looked at once, and the
record events webhooks carry become deliveries, in the writer's transaction, queued on commit.

A rolled-back action delivers nothing. An event names ids, field names and counts, never
values (as the audit log itself), so nothing personal leaves through a webhook.
"""

from audit.models import Action
from webhooks.models import RECORD_TYPES

VERBS = {
    Action.CREATE: "created",
    Action.UPDATE: "updated",
    Action.DELETE: "deleted",
    Action.RESTORE: "restored",
    Action.IMPORT: "imported",
}


def _ids(value) -> list[int]:
    return [int(pk) for pk in value] if isinstance(value, list) else []


def events_of(event) -> list[tuple[str, dict]]:
    """(event name, payload) for each webhook event an audit event stands for."""
    verb = VERBS.get(event.action)
    if verb is None:
        return []
    detail = event.detail or {}
    counts = detail.get("counts") or {}
    ids = detail.get("ids")
    common = {"occurred_at": event.created_at.isoformat(), "batch": str(event.batch) if event.batch else None}
    if verb == "imported":
        # An import names no ids (it may write 100,000 rows): what it created and updated, and the import's id.
        if event.object_type not in RECORD_TYPES:
            return []
        counts = {"created": detail.get("created", 0), "updated": detail.get("updated", 0)}
        return [
            (
                f"{event.object_type}.{name}",
                {**common, "type": event.object_type, "ids": [], "count": count, "import": detail.get("import")},
            )
            for name, count in counts.items()
            if count
        ]
    if verb in ("created", "updated"):
        if event.object_type not in RECORD_TYPES:
            return []
        pks = [int(event.object_id)] if event.object_id else _ids(ids)
        payload = {**common, "type": event.object_type, "ids": pks, "count": event.count or len(pks)}
        payload["fields"] = detail.get("fields", []) if verb == "updated" else []
        found = [(f"{event.object_type}.{verb}", payload)]
        if verb == "updated" and "stage" in payload["fields"] and event.object_type == "opportunity":
            found.append(("opportunity.stage_changed", payload))
        return found
    # Deletes and restores: one event per record type the batch moved, ids where the event has them.
    by_type = ids if isinstance(ids, dict) else ({event.object_type: ids} if event.object_type else {})
    types = [name for name in (*counts, *by_type) if name in RECORD_TYPES]
    return [
        (
            f"{name}.{verb}",
            {
                **common,
                "type": name,
                "ids": _ids(by_type.get(name)),
                "count": counts.get(name) or len(by_type.get(name) or []),
            },
        )
        for name in dict.fromkeys(types)
    ]


def on_audit_event(sender, instance, created, raw=False, **kwargs):
    """post_save of audit.AuditEvent."""
    if not created or raw or instance.action not in VERBS:
        return
    found = events_of(instance)
    if found:
        from webhooks.actions import enqueue

        enqueue(instance.tenant_id, found)
