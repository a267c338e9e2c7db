"""History pages: every version of a record with a readable diff, and revert.

Reads go through `Model.objects.for_user(user, action)`; the revert itself is
`crm.history.actions.revert()`, which decides whether the version may be put
back, saves, writes the history row (reason "reverted") and the audit event. A page of versions costs the same
number of queries however many versions it shows: the diffs pair consecutive
rows of one query (a page plus the version before its last one), and related
records named in the diffs are looked up once per related model.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS, FieldDoesNotExist, PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import IntegrityError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.cache import patch_vary_headers
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from crm.history import actions
from crm.history.versions import revertible_fields, version_of
from crm.records.registry import record_models

PAGE_SIZE = 25
MAX_PK = 2**63 - 1  # PostgreSQL bigint
HIDDEN_FIELDS = ("updated_at", "version")

# history_change_reason -> what the page says (unknown reasons are shown as stored).
REASONS = {
    "created": gettext_lazy("Created"),
    "edited": gettext_lazy("Edited"),
    "deleted": gettext_lazy("Moved to the recycle bin"),
    "restored": gettext_lazy("Restored"),
    "reverted": gettext_lazy("Reverted"),
    "purged": gettext_lazy("Deleted permanently"),
    "seeded": gettext_lazy("Demo data"),
    "retention": gettext_lazy("Retention clean-up"),
    # the public pool (pool/)
    "claimed": gettext_lazy("Claimed from the pool"),
    "released": gettext_lazy("Released to the pool"),
    "reclaimed": gettext_lazy("Returned to the pool"),
}
REASON_STYLES = {
    "created": "success",
    "deleted": "danger",
    "purged": "danger",
    "restored": "info",
    "reverted": "warning",
}
HISTORY_TYPES = {"+": "created", "~": "edited", "-": "purged"}


# -- looking things up -------------------------------------------------------------


def visible_record(request, record_type: str, pk: int):
    """(model, record) when the user may see the alive record; 404 otherwise (unknown type too)."""
    model = record_models().get(record_type)
    if model is None or not hasattr(model, "history") or not 0 < pk <= MAX_PK:
        raise Http404
    return model, get_object_or_404(model.objects.for_user(request.user, "view"), pk=pk)


def may_change(request, model, record) -> bool:
    return model.objects.for_user(request.user, "change").filter(pk=record.pk).exists()


def history_url(record_type: str, record) -> str:
    return reverse("history:record", args=[record_type, record.pk])


def related_labels(request, wanted: dict[type, set]) -> dict[tuple[type, object], str]:
    """{(model, pk): label} for the related objects named in diffs: one query per related model.

    Users are named by username; records only when the user may see them
    (others are shown as "#id"), and only within the active tenant.
    """
    user_model = get_user_model()
    labels: dict[tuple[type, object], str] = {}
    for related, ids in wanted.items():
        ids = {pk for pk in ids if pk not in (None, "")}
        if not ids:
            continue
        if related is user_model:
            rows = user_model.objects.filter(pk__in=ids).values_list("pk", user_model.USERNAME_FIELD)
            labels.update({(related, pk): name for pk, name in rows})
            continue
        queryset = getattr(related, "all_objects", None)
        if queryset is None or not hasattr(queryset.all(), "for_user"):
            continue
        rows = queryset.filter(tenant=request.tenant, pk__in=ids).for_user(request.user, "view")
        labels.update({(related, row.pk): str(row) for row in rows})
    return labels


def display(field, value, labels) -> str:
    """A value as the page shows it: choice labels, related names, local dates; "" when empty."""
    if value is None or value == "" or value == [] or value == ():
        return ""
    if field.is_relation:
        return labels.get((field.related_model, value)) or f"#{value}"
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
        return formats.date_format(value, "SHORT_DATETIME_FORMAT")
    if isinstance(value, datetime.date):
        return formats.date_format(value, "SHORT_DATE_FORMAT")
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value)
    if isinstance(value, Decimal | int | float):
        return formats.localize(value)
    return str(value)


def describe(model, raw_changes: list[tuple[str, object, object]], labels) -> list[dict]:
    """[(field name, old, new)] -> [{field, label, old, new}] in the model's field order."""
    order = {field.name: index for index, field in enumerate(model._meta.concrete_fields)}
    described = []
    for name, old, new in sorted(raw_changes, key=lambda change: order.get(change[0], len(order))):
        field = model._meta.get_field(name)
        described.append(
            {
                "field": name,
                "label": capfirst(field.verbose_name),
                "old": display(field, old, labels),
                "new": display(field, new, labels),
            }
        )
    return described


def _want(model, raw_changes, wanted) -> None:
    for name, old, new in raw_changes:
        field = model._meta.get_field(name)
        if field.is_relation:
            wanted[field.related_model].update((old, new))


# -- versions ----------------------------------------------------------------------


def initial_values(model, version) -> list[tuple[str, object, object]]:
    """The first version's non-empty values, as changes from nothing."""
    changes = []
    for field in revertible_fields(model):
        value = getattr(version, field.attname)
        if field.name not in HIDDEN_FIELDS and value not in (None, "", [], ()):
            changes.append((field.name, None, value))
    return changes


def version_rows(request, model, versions: list, older) -> list[dict]:
    """Rows for a page of versions (newest first); `older` is the version before the last one, if any.

    Pairs each version with the next older one in the list, without a query per version.
    """
    pending = []
    wanted: dict[type, set] = defaultdict(set)
    for index, version in enumerate(versions):
        previous = versions[index + 1] if index + 1 < len(versions) else older
        if previous is None:
            raw = initial_values(model, version)
        else:
            delta = version.diff_against(previous, excluded_fields=HIDDEN_FIELDS)
            raw = [(change.field, change.old, change.new) for change in delta.changes]
        _want(model, raw, wanted)
        pending.append((version, previous, raw))
    labels = related_labels(request, wanted)
    rows = []
    for version, previous, raw in pending:
        reason = version.history_change_reason or HISTORY_TYPES.get(version.history_type, "")
        rows.append(
            {
                "version": version,
                "reason": reason,
                "reason_label": REASONS.get(reason, reason),
                "reason_style": REASON_STYLES.get(reason, "secondary"),
                "user": version.history_user.get_username() if version.history_user else "",
                "process": version.process,
                "changes": describe(model, raw, labels),
                "initial": previous is None,
            }
        )
    return rows


def history_context(request, model, record, record_type: str) -> dict:
    versions = (
        record.history.filter(tenant_id=record.tenant_id)  # the index is (tenant, id, -history_date)
        .select_related("history_user")
        .order_by("-history_date", "-history_id")
    )
    paginator = Paginator(versions, PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    start = (page.number - 1) * PAGE_SIZE
    fetched = list(versions[start : start + PAGE_SIZE + 1])  # one more: the version before the page's last
    shown, older = fetched[:PAGE_SIZE], (fetched[PAGE_SIZE] if len(fetched) > PAGE_SIZE else None)
    page.object_list = shown
    rows = version_rows(request, model, shown, older)
    can_change = may_change(request, model, record)
    for index, row in enumerate(rows):
        # Reverting to the newest version would change nothing.
        row["can_revert"] = can_change and not (page.number == 1 and index == 0)
    return {
        "object": record,
        "record": record,
        "record_type": record_type,
        "type_label": capfirst(model._meta.verbose_name),
        "rows": rows,
        "page_obj": page,
        "paginator": paginator,
        "history_url": history_url(record_type, record),
        "can_change": can_change,
    }


@login_required
@require_http_methods(["GET", "HEAD"])
def record_history(request, record_type: str, pk: int):
    """Every version of one record, newest first; htmx requests get just the list (the History tab)."""
    model, record = visible_record(request, record_type, pk)
    context = history_context(request, model, record, record_type)
    partial = bool(getattr(request, "htmx", False))
    response = render(request, "history/_versions.html" if partial else "history/record.html", context)
    patch_vary_headers(response, ("HX-Request",))
    return response


# -- revert ------------------------------------------------------------------------


def revert_changes(request, model, record, version) -> list[dict]:
    """What reverting would change: [{field, label, old (now), new (the version's)}]."""
    raw = []
    for field in revertible_fields(model):
        now, then = getattr(record, field.attname), getattr(version, field.attname)
        if now != then:
            raw.append((field.name, now, then))
    wanted: dict[type, set] = defaultdict(set)
    _want(model, raw, wanted)
    return describe(model, raw, related_labels(request, wanted))


def cannot_revert(model, error: ValidationError) -> str:
    """ "Cannot revert: <why>", naming the fields the rules refer to."""
    if hasattr(error, "error_dict"):
        parts = []
        for name, field_messages in error.message_dict.items():
            text = " ".join(field_messages)
            if name == NON_FIELD_ERRORS:
                parts.append(text)
                continue
            try:
                label = capfirst(model._meta.get_field(name).verbose_name)
            except FieldDoesNotExist:
                label = name
            parts.append(f"{label}: {text}")
    else:
        parts = error.messages
    return _("Cannot revert: %(reason)s") % {"reason": " ".join(parts)}


def when(version) -> str:
    return formats.date_format(timezone.localtime(version.history_date), "SHORT_DATETIME_FORMAT")


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def revert(request, record_type: str, pk: int, history_id: int):
    """GET: which fields would change to which values; POST: put the version's values back."""
    model, record = visible_record(request, record_type, pk)
    if not may_change(request, model, record):
        raise PermissionDenied(_("You may not change this record."))
    version = version_of(record, history_id) if 0 < history_id <= MAX_PK else None
    if version is None:
        raise Http404(_("That version does not belong to this record."))
    back = history_url(record_type, record)
    changes = revert_changes(request, model, record, version)
    problems = actions.reference_problems(record, version, request.user)
    error = cannot_revert(model, ValidationError(problems)) if problems else ""
    if request.method == "POST" and not error:
        if not changes:
            messages.info(request, _("Nothing to revert: the record already has the values of that version."))
            return redirect(back)
        try:
            actions.revert(record, version, acting_user=request.user)
        except ValidationError as problem:
            error = cannot_revert(model, problem)
        except IntegrityError:  # a rule broken by a concurrent change, after validation passed
            error = _("Cannot revert: another change got in the way. Reload the page and try again.")
        else:
            messages.success(
                request,
                _("%(record)s was reverted to the version of %(when)s (as a new change).")
                % {"record": record, "when": when(version)},
            )
            return redirect(back)
        # The failed attempt set the old values on the instance; show the stored record again.
        record = model.objects.for_user(request.user, "view").filter(pk=record.pk).first()
        if record is None:
            raise Http404
        changes = revert_changes(request, model, record, version)
    context = {
        "record": record,
        "object": record,
        "record_type": record_type,
        "type_label": capfirst(model._meta.verbose_name),
        "version": version,
        "version_when": when(version),
        "changes": changes,
        "error": error,
        "history_url": back,
    }
    return render(request, "history/revert.html", context, status=409 if error else 200)
