"""Delete by list: which records a column of ids, emails or phones names, and which values name none.

Read-only: the matched ids go to the recycle bin's own confirmation page (counts, one batch, Undo).
"""

from __future__ import annotations

from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from customers.duplicates import digits
from customers.search import PhoneDigits

KINDS = [("id", _("ids")), ("email", _("emails")), ("phone", _("phone numbers"))]
MAX_VALUES = 1000  # the recycle bin's confirmation takes at most this many records


def match(model, values: list[str], kind: str, user) -> tuple[list, list[str]]:
    """(records `user` may delete that the values name, values that name none of them)."""
    allowed = model.objects.all() if user is None else model.objects.for_user(user, "delete")
    if kind == "id":
        keys = {value: int(value.lstrip("#")) for value in values if value.lstrip("#").isdigit() and len(value) < 19}
        rows = allowed.filter(pk__in=set(keys.values()))
        found = {record.pk: record for record in rows}
        hits = {value: found.get(key) for value, key in keys.items()}
    elif kind == "email":
        rows = allowed.annotate(key=Lower("email")).filter(key__in={value.lower() for value in values})
        found = {record.key: record for record in rows}
        hits = {value: found.get(value.lower()) for value in values}
    else:
        wanted = {digits(value) for value in values if len(digits(value)) >= 5}
        rows = allowed.annotate(key=PhoneDigits("phone")).filter(key__in=wanted)
        found = {record.key: record for record in rows}
        hits = {value: found.get(digits(value)) for value in values}
    matched = {record.pk: record for record in hits.values() if record is not None}
    missing = [value for value in values if hits.get(value) is None]
    return sorted(matched.values(), key=lambda record: record.pk), missing
