"""Writing a previewed import, and putting it back: set-based, chunk by chunk.

Creates are one bulk INSERT per chunk, updates one bulk UPDATE per chunk, and each
chunk's history rows one INSERT ... SELECT (crm.history.bulk), reason "imported".
The ImportRow of each line keeps the record's id, the values an update replaced
and the record's updated_at after it: revert refuses a record changed since.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.history.bulk import write_bulk_history
from imports.convert import Converter
from imports.inserts import insert_records, json_text
from imports.models import Import, ImportRow
from imports.specs import Spec

CHUNK = 1000
RECORD_BATCH = 100  # rows per bulk_update() statement: its CASE grows with the batch, per column
REASON = "imported"
REVERT_REASON = "import reverted"
SHOWN_CONFLICTS = 20


def _jsonable(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


@dataclass(slots=True)
class Line:
    """An ImportRow being written, as a plain object: a model instance per line (its descriptors,
    its fields' conversions) cost more than writing it. The file's cells stay in the table."""

    pk: int
    line: int
    outcome: str
    record_id: int | None
    values: dict
    before: dict
    reason: str = ""
    written_at: datetime | None = None


LINE_COLUMNS = ("pk", "line", "outcome", "record_id", "values", "before")


def _chunks(rows):
    last = 0
    while True:
        chunk = [
            Line(*columns) for columns in rows.filter(line__gt=last).order_by("line")[:CHUNK].values_list(*LINE_COLUMNS)
        ]
        if not chunk:
            return
        yield chunk
        last = chunk[-1].line


def apply_rows(job: Import, spec: Spec, user, progress: Callable[[int], None]) -> dict[str, int]:
    """Write the planned creates and updates; {"created": n, "updated": n, "errors": n} (deleted since)."""
    model, converter = spec.model, Converter(spec.model)
    counts = {"created": 0, "updated": 0, "errors": 0}
    planned = ImportRow.all_objects.filter(tenant_id=job.tenant_id, batch=job, outcome__in=("create", "update"))
    done = 0
    for chunk in _chunks(planned):
        creates = [row for row in chunk if row.outcome == "create"]
        if creates:
            _create(model, spec, converter, job, user, creates)
            counts["created"] += len(creates)
        updates = [row for row in chunk if row.outcome == "update"]
        if updates:
            written = _update(model, converter, updates)
            counts["updated"] += written
            counts["errors"] += len(updates) - written
        _save_rows(job.tenant_id, chunk)
        done += len(chunk)
        progress(done)
    return counts


# One UPDATE per chunk, joined on (tenant_id, id), the table's key: bulk_update() would write a
# CASE of 1,000 branches per column and find the rows by id alone. Once written, a line keeps no
# copy of what it wrote (the record has it), only what revert and the failed-rows file need.
SAVE_ROWS = """
UPDATE imports_importrow AS r
SET outcome = v.outcome, reason = v.reason, record_id = v.record_id, before = v.before, written_at = v.written_at,
    "values" = '{}'::jsonb,
    cells = CASE WHEN v.outcome = 'error' THEN r.cells ELSE '[]'::jsonb END
FROM jsonb_to_recordset(%s::jsonb)
    AS v(id bigint, outcome text, reason text, record_id bigint, before jsonb, written_at timestamptz)
WHERE r.tenant_id = %s AND r.id = v.id
"""


def _save_rows(tenant_id, rows) -> None:
    data = [
        {
            "id": row.pk,
            "outcome": row.outcome,
            "reason": row.reason,
            "record_id": row.record_id,
            "before": row.before,
            "written_at": row.written_at.isoformat() if row.written_at else None,
        }
        for row in rows
    ]
    with connection.cursor() as cursor:
        cursor.execute(SAVE_ROWS, [json_text(data), tenant_id])


def _create(model, spec, converter, job, user, rows) -> None:
    derive, records = spec.derive, []
    # Derived values may name a related record as an object (the owner): written as its id.
    related = {field.name: field.attname for field in model._meta.concrete_fields if field.is_relation}
    for row in rows:
        values = converter.typed(row.values)
        if derive is not None:
            values = derive(values, added_by=user)
            for name in related.keys() & values.keys():
                value = values.pop(name)
                values[related[name]] = None if value is None else value.pk
        records.append({"tenant_id": job.tenant_id, **values})
    ids = insert_records(model, records)
    for row, pk in zip(rows, ids, strict=True):
        row.record_id = pk
    write_bulk_history(model, ids, "+", REASON)


def _update(model, converter, rows) -> int:
    now = timezone.now()
    targets = model.objects.filter(pk__in=[row.record_id for row in rows]).order_by("pk").select_for_update()
    targets = {record.pk: record for record in targets}
    changed, fields = [], {"updated_at"}
    for row in rows:
        record = targets.get(row.record_id)
        if record is None:
            row.outcome, row.reason = "error", _("The record was deleted after the preview.")
            continue
        typed = converter.typed(row.values)
        row.before = {name: _jsonable(getattr(record, model._meta.get_field(name).attname)) for name in row.values}
        for attname, value in typed.items():
            setattr(record, attname, value)
            fields.add(attname)
        record.updated_at = row.written_at = now
        changed.append(record)
    if changed:
        model.all_objects.bulk_update(changed, sorted(fields), batch_size=RECORD_BATCH)
        write_bulk_history(model, [record.pk for record in changed], "~", REASON)
    return len(changed)


# -- revert ----------------------------------------------------------------------


def changed_since(job: Import, spec: Spec) -> list[tuple[int, str]]:
    """(id, label) of the records the import updated that changed (or went to the bin) since."""
    model = spec.model
    updated = ImportRow.all_objects.filter(tenant_id=job.tenant_id, batch=job, outcome="update")
    written = dict(updated.values_list("record_id", "written_at"))
    current = {
        pk: (stamp, label)
        for pk, stamp, label in model.all_objects.filter(pk__in=written, deleted_at__isnull=True).values_list(
            "pk", "updated_at", spec.name_field
        )
    }
    return sorted(
        (pk, current[pk][1] if pk in current else f"#{pk}")
        for pk, stamp in written.items()
        if pk not in current or current[pk][0] != stamp
    )


def put_back(job: Import, spec: Spec) -> int:
    """The values the import replaced, written back (one UPDATE and one history INSERT per chunk)."""
    model, converter = spec.model, Converter(spec.model)
    now, count = timezone.now(), 0
    for chunk in _chunks(ImportRow.all_objects.filter(tenant_id=job.tenant_id, batch=job, outcome="update")):
        records = {record.pk: record for record in model.all_objects.filter(pk__in=[row.record_id for row in chunk])}
        fields = {"updated_at"}
        for row in chunk:
            record = records[row.record_id]
            for attname, value in converter.typed(row.before).items():
                setattr(record, attname, value)
                fields.add(attname)
            record.updated_at = now
        model.all_objects.bulk_update(list(records.values()), sorted(fields), batch_size=RECORD_BATCH)
        write_bulk_history(model, list(records), "~", REVERT_REASON)
        count += len(records)
    return count


def created_ids(job: Import) -> list[int]:
    rows = ImportRow.all_objects.filter(tenant_id=job.tenant_id, batch=job, outcome="create", record_id__isnull=False)
    return list(rows.order_by("record_id").values_list("record_id", flat=True))
