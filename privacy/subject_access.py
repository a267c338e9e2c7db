"""A person's data (PIPL art. 45, GDPR art. 15): everything held about one customer or contact, as
a ZIP of JSON and CSV files.

What it holds: the record and every record hanging off it or naming it (a customer's contacts,
interactions, tickets and deals; the interactions with a contact), alive or in the recycle bin;
every history version of each; and the audit events that name any of them by id. One person's
data is small, so the archive is built in memory (unlike the company export, which streams).

Layout: `records/<type>.json` and `records/<type>.csv`, `history/<type>.json`,
`audit-events.json` and `audit-events.csv`, and `manifest.json` listing them with their counts.
"""

from __future__ import annotations

import io
import json
import zipfile

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from audit.models import AuditEvent
from crm.exports.writers import csv_chunks
from crm.records.registry import record_models
from crm.records.softdelete import collect_cascade, type_name

AUDIT_COLUMNS = [
    "seq",
    "created_at",
    "actor_username",
    "process",
    "action",
    "object_type",
    "object_id",
    "batch",
    "count",
    "request_id",
    "detail",
]


def held_records(model, pk, tenant) -> dict[type, list[int]]:
    """{model: ids}: the record, what hangs off it (the bin's cascade), and records that link to it."""
    found = {target: list(ids) for target, ids in collect_cascade(model, [pk]).items()}
    for other in record_models().values():
        for field in other._meta.concrete_fields:
            if other is not model and field.is_relation and field.related_model is model:
                linked = other.all_objects.filter(tenant=tenant, **{field.name: pk}).values_list("pk", flat=True)
                found[other] = sorted(set(found.get(other, [])) | set(linked))
    return {target: ids for target, ids in found.items() if ids}


def _json(data) -> bytes:
    return json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2).encode()


def _csv(headers, rows) -> bytes:
    return b"".join(csv_chunks(headers, rows))


def personal_data_zip(model, pk, tenant, *, exported_by: str) -> tuple[bytes, dict[str, int]]:
    """(the archive's bytes, {file name: rows}) for record `pk` of `model` in `tenant`."""
    held = held_records(model, pk, tenant)
    files: dict[str, bytes] = {}
    counts: dict[str, int] = {}
    audit_ids = []
    for target, ids in held.items():
        name = type_name(target)
        headers = [field.attname for field in target._meta.concrete_fields]
        rows = list(target.all_objects.filter(tenant=tenant, pk__in=ids).order_by("pk").values_list(*headers))
        files[f"records/{name}.json"] = _json([dict(zip(headers, row, strict=True)) for row in rows])
        files[f"records/{name}.csv"] = _csv(headers, rows)
        counts[f"records/{name}"] = len(rows)
        versions = list(
            target.history.filter(tenant_id=tenant.pk, id__in=ids).order_by("id", "history_date", "history_id").values()
        )
        files[f"history/{name}.json"] = _json(versions)
        counts[f"history/{name}"] = len(versions)
        audit_ids += [(name, [str(record_id) for record_id in ids])]
    events = []
    for name, ids in audit_ids:
        events += AuditEvent.objects.filter(tenant=tenant, object_type=name, object_id__in=ids).values(*AUDIT_COLUMNS)
    events.sort(key=lambda event: event["seq"])
    files["audit-events.json"] = _json(events)
    files["audit-events.csv"] = _csv(AUDIT_COLUMNS, ([event[column] for column in AUDIT_COLUMNS] for event in events))
    counts["audit-events"] = len(events)
    manifest = {
        "format": "crm-personal-data",
        "subject": {"type": type_name(model), "id": pk},
        "company": tenant.slug,
        "exported_at": timezone.now(),
        "exported_by": exported_by,
        "counts": counts,
        "files": sorted(files),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
        archive.writestr("manifest.json", _json(manifest))
    return buffer.getvalue(), counts
