"""Which columns an export of a record type has: every field a person entered or the system keeps,
read straight from the model, so a new field is exported without anyone remembering to add it.

Headers are the field names (stable in every language, and what an import maps back). A link to
a person is their username; a link to another record is its id and, beside it, its label.
Text is neutralised by the database (Neutralised), so rows reach the writer ready to write.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import F, Func
from django.db.models.functions import Cast

from crm.records.registry import record_type

INTERNAL = frozenset({"tenant", "deleted_at", "deleted_by", "deletion_batch"})


class Neutralised(Func):
    """Text a spreadsheet would run as a formula gets a leading apostrophe (crm.exports.cells),
    done by PostgreSQL: no Python per cell on the way out."""

    template = (
        "CASE WHEN left(%(expressions)s, 1) IN ('=', '+', '-', '@', chr(9), chr(13)) "
        "THEN '''' || %(expressions)s ELSE %(expressions)s END"
    )
    output_field = models.TextField()


class JoinedArray(Func):
    template = "array_to_string(%(expressions)s, ', ')"
    output_field = models.TextField()


def _text(lookup: str, field=None, *, as_text: bool = False):
    """What values_list() reads for a column: text neutralised, arrays joined, the rest as it is,
    or (`as_text`, for CSV) as PostgreSQL writes it: no date-time or decimal objects built in Python."""
    if isinstance(field, ArrayField):
        return Neutralised(JoinedArray(F(lookup)))
    if field is None or isinstance(field, models.CharField | models.TextField):
        return Neutralised(F(lookup))
    if as_text and not isinstance(field, models.IntegerField | models.AutoField):
        return Cast(F(lookup), models.TextField())
    return lookup


BIN_COLUMNS = (
    ("deleted_at", "deleted_at"),
    ("deleted_by", "deleted_by__username"),
    ("deletion_batch", "deletion_batch"),
)


@dataclass(frozen=True)
class Columns:
    headers: list[str]
    lookups: list  # field names and expressions, for values_list()


def record_columns(model, *, in_bin: bool = False, as_text: bool = False) -> Columns:
    headers, lookups = [], []
    user_model = get_user_model()
    for field in model._meta.concrete_fields:
        if field.name in INTERNAL:
            continue
        if not field.is_relation:
            headers.append(field.name)
            lookups.append(_text(field.attname, field, as_text=as_text))
        elif field.related_model is user_model:
            headers.append(field.name)
            lookups.append(_text(f"{field.name}__username"))
        else:
            headers.append(field.attname)
            lookups.append(field.attname)
            linked = record_type(field.related_model)
            if linked is not None:
                headers.append(field.name)
                lookups.append(_text(f"{field.name}__{linked.label_field}"))
    if in_bin:
        for header, lookup in BIN_COLUMNS:
            headers.append(header)
            field = model._meta.get_field(header)
            lookups.append(_text(lookup) if lookup.endswith("username") else _text(lookup, field, as_text=as_text))
    return Columns(headers, lookups)
