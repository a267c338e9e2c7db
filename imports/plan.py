"""The preview: what each line of the file would do (create, update, skip, error) and why.

Streams the file in chunks; per chunk a few set-based queries find the existing records
its lines match (normalised email, phone digits, name) and the customers they name,
then one bulk INSERT stores the lines' plans (ImportRow). Nothing else is written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import orjson
from django.db import connection
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from customers import duplicates
from imports.convert import Converter, CustomerFinder, RowError
from imports.files import Table
from imports.models import Import, ImportRow
from imports.specs import Spec

CHUNK = 1000
DUPLICATE_TAG = "possible duplicate"  # the tag of a record created although it looks like another
KEY_LABELS = {"email": gettext_lazy("email"), "phone": gettext_lazy("phone"), "name": gettext_lazy("name")}


def _chunks(rows, size=CHUNK):
    chunk = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# One INSERT per chunk from one JSON parameter: bulk_create() prepares each JSON field of
# each row in Python, which took longer than the rest of the preview.
INSERT_ROWS = """
INSERT INTO imports_importrow (tenant_id, batch_id, line, outcome, reason, record_id, "values", before, cells)
SELECT %s, %s, v.line, v.outcome, v.reason, v.record_id, v."values", '{}'::jsonb, v.cells
FROM jsonb_to_recordset(%s::jsonb)
    AS v(line integer, outcome text, reason text, record_id bigint, "values" jsonb, cells jsonb)
"""


@dataclass(slots=True)
class Planned:
    """One line's plan, as stored in ImportRow: a plain object, since building a model instance
    per line (its foreign key descriptors, its defaults) cost the preview more than deciding."""

    line: int
    cells: list
    outcome: str = ""
    reason: str = ""
    record_id: int | None = None
    values: dict = field(default_factory=dict)


def insert_rows(job: Import, rows: list[Planned]) -> None:
    data = [
        {
            "line": row.line,
            "outcome": row.outcome,
            "reason": row.reason,
            "record_id": row.record_id,
            "values": row.values,
            "cells": row.cells,
        }
        for row in rows
    ]
    with connection.cursor() as cursor:
        cursor.execute(INSERT_ROWS, [job.tenant_id, job.pk, orjson.dumps(data, default=str).decode()])


class Planner:
    def __init__(self, job: Import, spec: Spec, user):
        self.job, self.spec, self.user = job, spec, user
        self.model = spec.model
        self.converter = Converter(self.model)
        self.seen: dict[tuple, int] = {}  # duplicate key -> the line that had it first
        visible_customers = None
        if spec.scoped_by_customer:
            from customers.actions import parent_choices
            from customers.models import Customer

            visible_customers = Customer.objects.all() if user is None else parent_choices(user)
        self.finder = CustomerFinder(visible_customers) if visible_customers is not None else None
        self.changeable = self.model.objects.all() if user is None else self.model.objects.for_user(user, "change")
        self.counts = dict.fromkeys(ImportRow.Outcome.values, 0)

    def run(self, table: Table, progress: Callable[[int], None] = lambda done: None) -> dict[str, int]:
        done = 0
        for chunk in _chunks(enumerate(table.rows(), start=2)):
            insert_rows(self.job, self.plan_chunk(chunk))
            done += len(chunk)
            progress(done)
        return self.counts

    def _read(self, cells) -> tuple[dict, dict]:
        """(raw texts, converted values) of the mapped columns of one line."""
        texts, values, problems = {}, {}, []
        for header, cell in zip(self.job.headers, cells, strict=True):
            field = self.job.mapping.get(header)
            if not field or not cell:
                continue
            texts[field] = cell
            if field == "customer":
                continue
            try:
                values[field] = self.converter.convert(field, cell)
            except RowError as error:
                problems.append(str(error))
        if problems:
            raise RowError(" ".join(problems))
        return texts, values

    def plan_chunk(self, chunk) -> list[Planned]:
        read = []
        for line, cells in chunk:
            try:
                read.append((line, cells, *self._read(cells), None))
            except RowError as error:
                read.append((line, cells, {}, {}, str(error)))
        customers = {}
        if self.finder is not None:
            customers = self.finder.resolve(
                {texts["customer"] for _l, _c, texts, _v, e in read if not e and "customer" in texts}
            )
        keyed = []
        for line, cells, texts, values, problem in read:
            if not problem and self.finder is not None and "customer" in texts:
                found = customers[texts["customer"]]
                if isinstance(found, str):
                    problem = found
                else:
                    values["customer"] = found
            keyed.append((line, cells, values, problem, self._keys(values) if not problem else []))
        existing = self._existing([key for *_rest, keys in keyed for key in keys])
        changeable = set(
            self.changeable.filter(pk__in={pk for pk, _why in existing.values()}).values_list("pk", flat=True)
        )
        current = self._current(changeable)
        return [
            self._decide(line, cells, values, problem, keys, existing, changeable, current)
            for line, cells, values, problem, keys in keyed
        ]

    def _keys(self, values) -> list[tuple]:
        """The row's duplicate keys, most telling first: ("email", scope, value), ..."""
        scope = values.get("customer") if self.spec.scoped_by_customer else None
        keys = []
        for kind in self.spec.keys:
            value = duplicates.normalise(kind, values.get(self.spec.name_field if kind == "name" else kind))
            if value:
                keys.append((kind, scope, value))
        return keys

    def _existing(self, keys) -> dict[tuple, tuple[int, str]]:
        """{key: (record id, kind)} for the keys an alive record of the company already holds
        (the lookup of the check at entry: customers.duplicates)."""
        found = duplicates.find(
            self.model.objects.all(),
            keys,
            name_field=self.spec.name_field,
            scope_field="customer_id" if self.spec.scoped_by_customer else None,
        )
        return {key: (ids[0], key[0]) for key, ids in found.items()}

    def _current(self, ids) -> dict[int, dict]:
        fields = list(self.spec.fields)
        return {
            row["id"]: row
            for row in self.model.objects.filter(pk__in=ids).values(
                "id", *[self.model._meta.get_field(f).attname for f in fields]
            )
        }

    def _decide(self, line, cells, values, problem, keys, existing, changeable, current) -> Planned:
        row = Planned(line=line, cells=cells)
        outcome, reason, record_id = self._outcome(line, values, problem, keys, existing, changeable, current)
        row.outcome, row.reason, row.record_id = outcome, reason, record_id
        row.values = values if outcome in ("create", "update") else {}
        self.counts[outcome] += 1
        return row

    def _outcome(self, line, values, problem, keys, existing, changeable, current):
        noun = self.model._meta.verbose_name
        if problem:
            return "error", problem, None
        earlier = next((key for key in keys if key in self.seen), None)
        if earlier is not None and not self._flag(earlier[0], values):
            return (
                "skip",
                _("Same %(key)s as line %(line)s.") % {"key": KEY_LABELS[earlier[0]], "line": self.seen[earlier]},
                None,
            )
        for key in keys:
            self.seen.setdefault(key, line)
        matches = {existing[key] for key in keys if key in existing}
        ids = {pk for pk, _kind in matches}
        if len(ids) > 1:
            listed = ", ".join(f"#{pk} ({KEY_LABELS[kind]})" for pk, kind in sorted(matches))
            return (
                "error",
                _("Matches several existing %(type)s: %(ids)s.")
                % {"type": self.model._meta.verbose_name_plural, "ids": listed},
                None,
            )
        if earlier is not None:
            return "create", self._flagged(_("line %(line)s") % {"line": self.seen[earlier]}, earlier[0], values), None
        mode = self.job.mode
        if ids:
            pk, kind = min(matches, key=lambda match: self.spec.keys.index(match[1]))  # the most telling key
            if mode == Import.Mode.CREATE and self._flag(kind, values):
                return "create", self._flagged(f"{noun} #{pk}", kind, values), None
            if mode == Import.Mode.CREATE:
                return (
                    "skip",
                    _("Already exists: %(type)s #%(id)s (same %(key)s).")
                    % {"type": noun, "id": pk, "key": KEY_LABELS[kind]},
                    pk,
                )
            if pk not in changeable:
                return "error", _("You may not change %(type)s #%(id)s.") % {"type": noun, "id": pk}, pk
            changes = {name: value for name, value in values.items() if self._differs(current[pk], name, value)}
            if not changes:
                return "skip", _("No changes to %(type)s #%(id)s.") % {"type": noun, "id": pk}, pk
            values.clear()
            values.update(changes)
            return (
                "update",
                _("Updates %(fields)s of %(type)s #%(id)s.")
                % {"fields": ", ".join(sorted(changes)), "type": noun, "id": pk},
                pk,
            )
        if mode == Import.Mode.UPDATE:
            return "skip", _("No existing %(type)s matches this line.") % {"type": noun}, None
        missing = [name for name in self.spec.required if name not in values]
        if missing:
            labels = ", ".join(str(self.model._meta.get_field(name).verbose_name) for name in missing)
            return "error", _("Required: %(fields)s.") % {"fields": labels}, None
        return "create", "", None

    def _flag(self, kind: str, values: dict) -> bool:
        """Whether a duplicate is created anyway: asked for, in create mode, and not by email
        (an email address belongs to one record only)."""
        return (
            self.job.allow_duplicates
            and self.job.mode == Import.Mode.CREATE
            and kind != "email"
            and not values.get("email")
        )

    def _flagged(self, other: str, kind: str, values: dict) -> str:
        """Mark the record as a possible duplicate (a tag, where the type has tags); the line's reason."""
        about = {"other": other, "key": KEY_LABELS[kind], "tag": DUPLICATE_TAG}
        if "tags" not in self.spec.fields:
            return _("Possible duplicate of %(other)s (same %(key)s): created anyway.") % about
        values["tags"] = [*values.get("tags", []), DUPLICATE_TAG]
        return _("Possible duplicate of %(other)s (same %(key)s): created anyway, tagged “%(tag)s”.") % about

    def _differs(self, stored: dict, name: str, value) -> bool:
        field = self.model._meta.get_field(name)
        typed = self.converter.typed({name: value})[field.attname]
        return stored.get(field.attname) != typed
