"""Duplicate keys (查重): one normalisation and one lookup, for the check at entry and the importer.

A record's keys are its email in lower case, its phone's digits (five at least) and its name
with runs of white space made one and in upper case. `find()` looks keys up among alive rows
with the very expressions that tenant-first btree indexes hold (migration 0012), so a check
is a few index probes whatever the size of the company. `check()` is the entry check: the
matches of a customer or contact being created or edited, each telling whether the person
may see it (a rep who cannot: that it exists and who owns it, nothing else).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.db.models.functions import Lower, Upper
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.tenancy.members import display_name
from crm.web.mixins import same_rows
from customers.search import PhoneDigits

KINDS = ("email", "phone", "name")
KIND_LABELS = {"email": gettext_lazy("email"), "phone": gettext_lazy("phone"), "name": gettext_lazy("name")}
MIN_PHONE_DIGITS = 5
NON_DIGITS = re.compile(r"\D")
SHOWN_PER_KIND = 5  # the check lists this many matches of each key
ROWS_READ = 50  # ...among the first this many matching rows


def digits(phone: str) -> str:
    return NON_DIGITS.sub("", phone or "")


def name_key(name: str) -> str:
    return " ".join((name or "").split()).upper()


def normalise(kind: str, raw) -> str:
    """The key of one value ("" when it is none: empty, or a phone of fewer than five digits)."""
    raw = str(raw or "")
    if kind == "email":
        return raw.strip().lower()
    if kind == "phone":
        value = digits(raw)
        return value if len(value) >= MIN_PHONE_DIGITS else ""
    return name_key(raw)


def expression(kind: str, name_field: str = "name"):
    """The SQL expression a key is compared with (the indexes hold it)."""
    return {"email": Lower("email"), "phone": PhoneDigits("phone"), "name": Upper(name_field)}[kind]


def wanted_keys(keys) -> dict[str, list[str]]:
    """{kind: [values]} of (kind, scope, value) keys."""
    wanted = {kind: sorted({value for key_kind, _s, value in keys if key_kind == kind and value}) for kind in KINDS}
    return {kind: values for kind, values in wanted.items() if values}


def matching_rows(queryset, wanted: dict[str, list[str]], *, name_field: str = "name"):
    """The rows of `queryset` holding a wanted key, each key annotated (`key_email`, ...), by id.

    Each kind's condition is what its index holds (not empty; the indexed expression), so one
    query ORs index probes (BitmapOr); bench/dedupe.py shows its EXPLAIN."""
    condition = Q()
    for kind, values in wanted.items():
        column = name_field if kind == "name" else kind
        condition |= Q(~Q(**{column: ""}), **{f"key_{kind}__in": values})
    return (
        queryset.annotate(**{f"key_{kind}": expression(kind, name_field) for kind in wanted})
        .filter(condition)
        .order_by("pk")
    )


def find(
    queryset, keys, *, name_field: str = "name", scope_field: str | None = None, limit: int | None = None, rows=False
):
    """{(kind, scope, value): [ids in id order]} for the keys that rows of `queryset` hold.

    `keys`: (kind, scope, value) tuples; `scope` is the `scope_field` value of the row (a
    contact's customer id), or None when rows are not scoped. One query (matching_rows).
    `rows=True`: ({...}, {id: record}), the records of the first `limit` rows by id.
    """
    wanted = wanted_keys(keys)
    found: dict[tuple, list[int]] = defaultdict(list)
    records = {}
    if not wanted:
        return (dict(found), records) if rows else dict(found)
    matching = matching_rows(queryset, wanted, name_field=name_field)
    matching = matching[:limit] if limit else matching
    if rows:
        results = [(record, record.pk, getattr(record, scope_field) if scope_field else None) for record in matching]
        records = {record.pk: record for record, _pk, _scope in results}
        found_rows = [
            ({kind: getattr(record, f"key_{kind}") for kind in wanted}, pk, scope) for record, pk, scope in results
        ]
    else:
        fields = ["pk", *(f"key_{kind}" for kind in wanted), *([scope_field] if scope_field else [])]
        found_rows = [
            (dict(zip(wanted, row[1 : 1 + len(wanted)], strict=True)), row[0], row[-1] if scope_field else None)
            for row in matching.values_list(*fields)
        ]
    sets = {kind: set(values) for kind, values in wanted.items()}
    for held, pk, scope in found_rows:
        for kind, value in held.items():
            if value in sets[kind]:
                found[(kind, scope, value)].append(pk)
    return (dict(found), records) if rows else dict(found)


# -- the check at entry -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Match:
    kind: str  # email, phone or name
    record: object  # the matching customer or contact
    visible: bool  # whether the person checking may see it
    owner: str  # who owns it (a contact: its customer's owner)

    @property
    def kind_label(self):
        return KIND_LABELS[self.kind]

    def describe(self) -> str:
        """One line for people; a match the person cannot see is named by its owner only."""
        noun = self.record._meta.verbose_name
        about = {"type": noun, "key": self.kind_label, "owner": self.owner or _("nobody")}
        if not self.visible:
            return _("A %(type)s with the same %(key)s exists, owned by %(owner)s.") % about
        return _("Same %(key)s as %(type)s “%(name)s” (#%(id)s, owned by %(owner)s).") % {
            **about,
            "name": self.record,
            "id": self.record.pk,
        }


def entry_keys(values: dict) -> dict[str, str]:
    """{kind: key} of the values being saved."""
    keys = {kind: normalise(kind, values.get(kind)) for kind in KINDS if kind in values}
    return {kind: key for kind, key in keys.items() if key}


def check(model, values: dict, *, user, record=None, customer=None) -> list[Match]:
    """The alive records of `model` (Customer or Contact) sharing a key with `values`.

    Editing `record`: only the keys that change are checked, and the record is no match of
    itself. A contact's matches are the contacts of its customer (`customer`), as in imports.
    """
    keys = entry_keys(values)
    if record is not None:
        keys = {kind: key for kind, key in keys.items() if normalise(kind, getattr(record, kind)) != key}
    if not keys:
        return []
    contact = model._meta.model_name == "contact"
    rows = model.objects.all()
    if contact:
        if customer is None:
            return []
        rows = rows.filter(customer=customer)
    if record is not None:
        rows = rows.exclude(pk=record.pk)
    rows = rows.select_related("customer__owner" if contact else "owner")
    found, records = find(rows, [(kind, None, key) for kind, key in keys.items()], limit=ROWS_READ, rows=True)
    ids = {kind: found.get((kind, None, key), [])[:SHOWN_PER_KIND] for kind, key in keys.items()}
    wanted = {pk for pks in ids.values() for pk in pks}
    if not wanted:
        return []
    visible = wanted
    if user is not None:
        allowed = model.objects.for_user(user)
        if not same_rows(allowed, model.objects.all()):  # an admin sees them all: nothing to ask
            visible = set(allowed.filter(pk__in=wanted).values_list("pk", flat=True))
    matches = []
    for kind, pks in ids.items():
        for pk in pks:
            found_record = records[pk]
            owner = found_record.customer.owner if contact else found_record.owner
            matches.append(Match(kind, found_record, pk in visible, display_name(owner) if owner else ""))
    return matches


def policy(tenant) -> dict[str, str]:
    """{kind: "warn" or "block"}: the company's setting for each key."""
    return {kind: getattr(tenant, f"duplicate_{kind}", "warn") or "warn" for kind in KINDS}


def blocked(matches: list[Match], tenant, *, skip=()) -> dict[str, list[str]]:
    """{field: messages} for the matches of keys the company blocks (`skip`: kinds another rule keeps)."""
    rules = policy(tenant)
    errors: dict[str, list[str]] = defaultdict(list)
    for match in matches:
        if rules[match.kind] == "block" and match.kind not in skip:
            errors[match.kind].append(match.describe())
    return dict(errors)


def refuse_blocked(model, values: dict, *, user, tenant, record=None, customer=None, skip=()) -> None:
    """ValidationError naming the matches of blocked keys (the actions' rule: browser, API, tasks)."""
    if not any(policy(tenant)[kind] == "block" for kind in entry_keys(values) if kind not in skip):
        return
    errors = blocked(check(model, values, user=user, record=record, customer=customer), tenant, skip=skip)
    if errors:
        raise ValidationError(errors, code="duplicate")
