"""Which columns an export of a record type has: every field a person entered or the system keeps,
read straight from the model, so a new field is exported without anyone remembering to add it.

Headers are the field names (stable in every language, and what an import maps back). A link to
a person is their username; a link to another record is its id and, beside it, its label.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model

from crm.records.registry import record_type

INTERNAL = frozenset({"tenant", "deleted_at", "deleted_by", "deletion_batch"})
BIN_COLUMNS = (
    ("deleted_at", "deleted_at"),
    ("deleted_by", "deleted_by__username"),
    ("deletion_batch", "deletion_batch"),
)


@dataclass(frozen=True)
class Columns:
    headers: list[str]
    lookups: list[str]


def record_columns(model, *, in_bin: bool = False) -> Columns:
    headers, lookups = [], []
    user_model = get_user_model()
    for field in model._meta.concrete_fields:
        if field.name in INTERNAL:
            continue
        if not field.is_relation:
            headers.append(field.name)
            lookups.append(field.attname)
        elif field.related_model is user_model:
            headers.append(field.name)
            lookups.append(f"{field.name}__username")
        else:
            headers.append(field.attname)
            lookups.append(field.attname)
            linked = record_type(field.related_model)
            if linked is not None:
                headers.append(field.name)
                lookups.append(f"{field.name}__{linked.label_field}")
    if in_bin:
        headers += [header for header, _lookup in BIN_COLUMNS]
        lookups += [lookup for _header, lookup in BIN_COLUMNS]
    return Columns(headers, lookups)
