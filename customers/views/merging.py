"""Duplicates and merges in the browser: the duplicates page, the merge page (pick the surviving
record and, field by field, the value that wins), the result with its Undo button.

Customers and contacts alike (`kind` in the URL's name). Reads go through the restricting
querysets (a record the person cannot see is a 404), writes through customers.actions.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from crm.tenancy.acting import ActionConflict
from crm.web.mixins import may
from customers import actions, duplicates, merging
from customers.duplicate_groups import find_groups
from customers.merges import Merge

MAX_IDS = merging.MAX_MERGED + 1


def _model(kind):
    model = merging.MERGEABLE.get(kind)
    if model is None:
        raise Http404
    return model


def _ids(values) -> list[int]:
    ids = []
    for value in values:
        for part in str(value).split(","):
            if part.strip().isdigit() and len(part.strip()) < 19:
                ids.append(int(part.strip()))
    return list(dict.fromkeys(ids))[:MAX_IDS]


@login_required
def duplicates_page(request, kind="customer"):
    model = _model(kind)
    if not may(request, "view", model):
        raise PermissionDenied
    groups = find_groups(model.objects.for_user(request.user), tenant_id=request.tenant.pk)
    context = {"kind": kind, "groups": groups, "noun_plural": model._meta.verbose_name_plural}
    context["can_merge"] = may(request, "delete", model) and may(request, "change", model)
    return render(request, "customers/duplicates.html", context)


def _candidates(request, model, record) -> list:
    """Likely duplicates of one record that the person sees (its keys, as at entry)."""
    values = {kind: getattr(record, kind) for kind in duplicates.KINDS}
    customer = record.customer if model._meta.model_name == "contact" else None
    matches = duplicates.check(model, values, user=request.user, customer=customer)
    seen, found = {record.pk}, []
    for match in matches:
        if match.visible and match.record.pk not in seen:
            seen.add(match.record.pk)
            found.append(match)
    return found


@login_required
@require_http_methods(["GET", "POST"])
def merge_page(request, kind="customer"):
    model = _model(kind)
    source = request.POST if request.method == "POST" else request.GET
    ids = _ids(source.getlist("ids"))
    visible = model.objects.for_user(request.user).filter(pk__in=ids)
    if model._meta.model_name == "contact":
        visible = visible.select_related("customer")
    chosen = visible.in_bulk()
    if not ids or len(chosen) != len(ids):
        raise Http404
    records = [chosen[pk] for pk in ids]
    survivor_id = _ids([source.get("survivor", "")])
    survivor = chosen.get(survivor_id[0]) if survivor_id else records[0]
    if survivor is None:
        raise Http404
    fields = merging.MERGE_FIELDS[kind]
    if request.method == "POST" and source.get("confirm"):  # a selection posted from a list only shows the page
        choices = {name: source[f"field_{name}"] for name in fields if source.get(f"field_{name}")}
        others = [record for record in records if record.pk != survivor.pk]
        try:
            merge = actions.merge_records(survivor, others, choices=choices, acting_user=request.user)
        except ValidationError as error:
            for text in error.messages:
                messages.error(request, text)
        except ActionConflict as conflict:
            messages.error(request, str(conflict))
        else:
            messages.success(request, _("Merged into %(name)s.") % {"name": survivor})
            return redirect("customers:merge_result", pk=merge.pk)
    rows = [
        {
            "name": name,
            "label": model._meta.get_field(name).verbose_name,
            "values": [(record, _shown(record, name)) for record in records],
            "differ": len({str(_shown(record, name)) for record in records}) > 1,
        }
        for name in fields
    ]
    context = {
        "kind": kind,
        "records": records,
        "survivor": survivor,
        "rows": rows,
        "ids": ",".join(str(pk) for pk in ids),
        "candidates": _candidates(request, model, records[0]) if len(records) == 1 else [],
        "noun": model._meta.verbose_name,
    }
    return render(request, "customers/merge.html", context)


def _shown(record, name):
    value = getattr(record, name)
    if isinstance(value, list):
        return ", ".join(value)
    display = getattr(record, f"get_{name}_display", None)
    return display() if display else ("" if value is None else value)


def _merge_for(request, pk) -> Merge:
    merge = get_object_or_404(Merge.objects.all(), pk=pk)
    model = merging.MERGEABLE[merge.record_type]
    if not model.objects.for_user(request.user).filter(pk=merge.survivor_id).exists():
        raise Http404  # the surviving record is no longer one the person sees
    return merge


@login_required
def merge_result(request, pk):
    merge = _merge_for(request, pk)
    model = merging.MERGEABLE[merge.record_type]
    context = {
        "merge": merge,
        "survivor": model.all_objects.get(pk=merge.survivor_id),
        "merged": model.all_objects.filter(pk__in=merge.merged_ids).order_by("pk"),
        "noun": model._meta.verbose_name,
        "problems": merging.problems(merge) if merge.undone_at is None else [],
    }
    return render(request, "customers/merge_result.html", context)


@login_required
@require_POST
def undo_merge(request, pk):
    merge = _merge_for(request, pk)
    try:
        actions.undo_merge(merge, acting_user=request.user)
    except merging.MergeConflict as conflict:
        messages.error(request, _("The merge was not undone."))
        for problem in conflict.problems or [str(conflict)]:
            messages.error(request, problem)
    else:
        messages.success(request, _("The merge was undone: every record is back as it was."))
    return redirect(reverse("customers:merge_result", args=[merge.pk]))
