"""Erasing personal values from the history rows of purged records.

A purge keeps a record's history rows (dates, actors, field names, what kind of
change), but not the values that identify a person: the record type's
`personal_fields` (crm.records.registry) become a marker in text columns and NULL
in others, and a change reason the code did not write becomes the marker too.
Set-based: one UPDATE per history table per call, touching only rows that still
hold a value, so erasing twice changes nothing.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Case, Q, Value, When

from crm.history.tracing import SYSTEM_REASONS
from crm.records.registry import record_type

MARK = "[erased]"
REASON = "history_change_reason"


def personal_fields(model) -> list[models.Field]:
    entry = record_type(model)
    return [model._meta.get_field(name) for name in (entry.personal_fields if entry else ())]


def _is_text(field) -> bool:
    return isinstance(field, models.CharField | models.TextField)


def _text_holds_value(name: str) -> Q:
    return Q(**{f"{name}__isnull": False}) & ~Q(**{name: ""}) & ~Q(**{name: MARK})


def holds_value(model) -> Q:
    """History rows of `model` that still hold a personal value (an empty Q matches none)."""
    condition = ~Q(**{f"{REASON}__in": SYSTEM_REASONS}) & _text_holds_value(REASON)
    for field in personal_fields(model):
        condition |= _text_holds_value(field.attname) if _is_text(field) else Q(**{f"{field.attname}__isnull": False})
    return condition


def _erased(name: str, *, text: bool, keep=()):
    if not text:
        return Value(None)
    replaced = _text_holds_value(name) & ~Q(**{f"{name}__in": keep})
    return Case(When(replaced, then=Value(MARK)), default=models.F(name), output_field=models.TextField())


def history_rows(model, tenant_ids, ids):
    """The history rows of records `ids` of `model` (tenant first, so the history index serves it)."""
    return model.history.model.objects.filter(tenant_id__in=list(tenant_ids), id__in=list(ids))


def erase_history(model, tenant_ids, ids) -> int:
    """Replace the personal values in the history rows of `ids`; returns how many rows changed."""
    if not hasattr(model, "history") or not ids:
        return 0
    assignments = {field.attname: _erased(field.attname, text=_is_text(field)) for field in personal_fields(model)}
    assignments[REASON] = _erased(REASON, text=True, keep=SYSTEM_REASONS)
    return history_rows(model, tenant_ids, ids).filter(holds_value(model)).update(**assignments)
