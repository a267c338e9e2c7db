"""Browser pages for soft delete, undo, the recycle bin and restores.

Thin views over crm.recyclebin.actions: every write is one of its actions
(which check who may do what), every read goes through `Model.objects` /
`Model.deleted` `.for_user(...)` or crm.recyclebin.listing, all scoped to
the active company. Each change is confirmed first on a page that says what
will happen to how many records; the change itself is a POST with `confirm=1`.
"""

from __future__ import annotations

import math
from collections import defaultdict

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from guardian.shortcuts import get_users_with_perms

from crm.exports import pages as exports
from crm.records.permissions import purge_permission, purgeable
from crm.records.registry import record_models
from crm.records.softdelete import RestoreConflict
from crm.records.versions import changed_since_message
from crm.recyclebin import actions, listing
from crm.recyclebin.actions import Item, NotInBin
from crm.recyclebin.forms import BinFilterForm, GrantPurgeForm
from crm.recyclebin.requests import (
    back_url,
    bin_view,
    confirm_page,
    confirmed,
    describe_counts,
    item_key,
    labelled,
    needs_approval,
    parse_ids,
    parse_items,
    parse_seen,
    reason,
    retention_note,
    url_pk,
)
from crm.savedviews import lists as saved_views
from crm.tenancy.context import current_tenant
from crm.tenancy.members import display_name, tenant_managers
from crm.tenancy.roles import Role, role_may
from crm.web.pagination import CappedCountPaginator
from crm.web.redirects import next_url

PAGE_SIZE = 25


def is_admin(request) -> bool:
    member = request.membership
    return bool(member) and member.role == Role.ADMIN


def restorable_types(request) -> dict[str, type]:
    member = request.membership
    if member is None:
        return {}
    return {name: model for name, model in record_models().items() if role_may(member.role, "restore", name)}


@bin_view
@require_http_methods(["GET", "POST"])
def delete(request, record_type):
    """Confirm, then move records (with their children) to the recycle bin as one batch."""
    model = actions.model_for(record_type)
    member = request.membership
    if member is None or not role_may(member.role, "delete", record_type):
        raise PermissionDenied(_("Your role may not delete %(types)s.") % {"types": model._meta.verbose_name_plural})
    ids = parse_ids(request)
    seen = parse_seen(request, ids)
    queryset = seen.narrow(model.objects)  # the selected rows still at the versions the page showed
    if confirmed(request):
        stale = seen.changed_since(model)
        batch = actions.delete(queryset, acting_user=request.user, reason=reason(request))
        if batch.total:
            messages.success(
                request,
                _("Moved to the recycle bin: %(summary)s.") % {"summary": describe_counts(batch.counts)},
                extra_tags=f"undo:{batch.id}",
            )
        elif not stale:
            messages.warning(request, _("Nothing was deleted: the records were already in the recycle bin."))
        if stale:
            messages.warning(request, changed_since_message(len(stale)))
        return redirect(back_url(request))

    found = {record.pk: record for record in model.objects.for_user(request.user, "view").filter(pk__in=ids)}
    missing = len(ids) - len(found)
    if missing:
        raise NotInBin(
            ngettext(
                "%(count)s of the selected records does not exist, is not visible to you or is already in the recycle bin.",
                "%(count)s of the selected records do not exist, are not visible to you or are already in the recycle bin.",
                missing,
            )
            % {"count": missing}
        )
    counts = actions.preview_delete(queryset, request.user)  # PermissionDenied when not allowed
    notes = [retention_note(current_tenant())]
    if sum(counts.values()) > len(found):
        notes.insert(
            0, _("Records that belong to the selected ones go with them, and come back with them when restored.")
        )
    return confirm_page(
        request,
        title=_("Move to the recycle bin?"),
        statement=_("%(summary)s will be moved to the recycle bin.") % {"summary": describe_counts(counts)},
        notes=notes,
        records=[{"type": capfirst(model._meta.verbose_name), "label": str(found[pk])} for pk in ids],
        action_url=reverse("bin:delete", args=[record_type]),
        values={"ids": ",".join(map(str, ids)), "seen": ",".join(f"{pk}@{v}" for pk, v in seen.versions.items())},
        button=_("Move to the recycle bin"),
        danger=True,
        approval=needs_approval("bulk_delete", len(found)),
    )


@bin_view
@require_POST
def undo(request, batch):
    """Restore exactly what one delete moved to the bin (the Undo button of its message)."""
    try:
        counts = actions.restore_batch(batch, acting_user=request.user)
    except NotInBin:
        messages.warning(request, _("Nothing to undo: those records were already restored or purged."))
    except RestoreConflict as conflict:
        messages.error(request, str(conflict))
    else:
        messages.success(request, _("Undone: %(summary)s restored.") % {"summary": describe_counts(counts)})
    return redirect(back_url(request))


# -- the bin -----------------------------------------------------------------------


@bin_view
@require_GET
def bin_list(request):
    types = restorable_types(request)
    if not types:
        raise PermissionDenied(_("Your role may not restore records, so you have no recycle bin."))
    views_page = saved_views.ListPage(request, BinFilterForm)
    if opened := saved_views.opening(views_page):  # the default view, or a view picked by ?view=
        return opened
    form = BinFilterForm(
        request.GET or None,
        type_choices=[(name, capfirst(model._meta.verbose_name_plural)) for name, model in types.items()],
    )
    if form.is_bound and not form.is_valid():
        entries = []
    else:
        entries = listing.entries(request.user, **(form.entries_filters() if form.is_bound else {}))
    if exports.wants_export(request):
        return exports.export_bin(request, form, entries)
    paginator = CappedCountPaginator(entries, PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    tenant = current_tenant()
    rows = bin_rows(request, list(page.object_list), tenant)
    return render(
        request,
        "recyclebin/list.html",
        {
            "form": form,
            "rows": rows,
            "page_obj": page,
            "paginator": paginator,
            "tenant": tenant,
            "retention_note": retention_note(tenant),
            "can_empty": is_admin(request) and not tenant.legal_hold,
            "can_purge_any": any(row["can_purge"] for row in rows),
            "batch_filter": form.cleaned_data.get("batch") if form.is_bound and form.is_valid() else None,
            **saved_views.context(views_page),
        },
    )


bin_list.saved_views = True  # crm.savedviews: the bin's filters can be saved as views


def bin_rows(request, entries: list[dict], tenant) -> list[dict]:
    """Decorate one page of entries; a fixed number of queries whatever the page size."""
    entries = [entry for entry in entries if "type" in entry]
    user_ids = {entry["deleted_by_id"] for entry in entries if entry["deleted_by_id"]}
    users = (
        {user.pk: display_name(user) for user in get_user_model().objects.filter(pk__in=user_ids)} if user_ids else {}
    )
    sizes = listing.batch_sizes({entry["deletion_batch"] for entry in entries})
    types = record_models()
    ids_by_type: dict[str, list[int]] = defaultdict(list)
    for entry in entries:
        ids_by_type[entry["type"]].append(entry["id"])
    may_purge = set()
    for name, ids in ids_by_type.items():
        model = types[name]
        allowed = (
            purgeable(request.membership, model.deleted.filter(pk__in=ids)).order_by().values_list("pk", flat=True)
        )
        may_purge |= {(name, pk) for pk in allowed}
    now = timezone.now()
    rows = []
    for entry in entries:
        model = types[entry["type"]]
        purge_at = actions.purge_after(tenant, entry["deleted_at"])
        rows.append(
            {
                **entry,
                "key": item_key(model, entry["id"]),
                "type_label": capfirst(model._meta.verbose_name),
                "deleted_by": users.get(entry["deleted_by_id"], ""),
                "batch_size": sizes.get(entry["deletion_batch"], 1),
                "purge_at": purge_at,
                "days_left": None if purge_at is None else max(math.ceil((purge_at - now).total_seconds() / 86400), 0),
                "can_purge": (entry["type"], entry["id"]) in may_purge and not tenant.legal_hold,
            }
        )
    return rows


@bin_view
@require_GET
def item(request, record_type, pk):
    """One record in the bin: what went with it, and (admins) who may purge it."""
    model = actions.model_for(record_type)
    record = model.deleted.for_user(request.user, "restore").select_related("deleted_by").filter(pk=url_pk(pk)).first()
    if record is None:
        raise NotInBin(_("That record is not in the recycle bin: it may have been restored or purged already."))
    tenant = current_tenant()
    context = {
        "record": record,
        "type": record_type,
        "type_label": capfirst(model._meta.verbose_name),
        "key": item_key(model, record.pk),
        "deleted_by": display_name(record.deleted_by),
        "batch_size": listing.batch_sizes([record.deletion_batch]).get(record.deletion_batch, 1),
        "purge_at": actions.purge_after(tenant, record.deleted_at),
        "tenant": tenant,
        "now": timezone.now(),
        "can_purge": not tenant.legal_hold
        and purgeable(request.membership, model.deleted.filter(pk=record.pk)).exists(),
        "is_admin": is_admin(request),
    }
    if context["is_admin"]:
        codename = purge_permission(model).split(".", 1)[1]
        holders = get_users_with_perms(record, only_with_perms_in=[codename], with_group_users=False)
        context["grants"] = [{"id": user.pk, "name": display_name(user)} for user in holders.order_by("username")]
        granted = {grant["id"] for grant in context["grants"]}
        context["grant_form"] = GrantPurgeForm()
        context["grant_form"].fields["user"].queryset = tenant_managers().exclude(pk__in=granted)
        context["can_grant"] = context["grant_form"].fields["user"].queryset.exists()
    return render(request, "recyclebin/item.html", context)


# -- restore -----------------------------------------------------------------------


def _do_restore(request, items: list[Item], restore):
    """Run a restore action; a refusal is a 409 page offering to restore the parent too."""
    try:
        counts = restore()
    except RestoreConflict as conflict:
        parent = conflict.parent
        offer = None
        if parent is not None and items:
            keys = [item_key(type(parent), parent.pk), *(item_key(item.model, item.pk) for item in items)]
            offer = {"label": str(parent), "items": ",".join(dict.fromkeys(keys))}
        return render(
            request,
            "recyclebin/conflict.html",
            {"message": str(conflict), "offer": offer, "next": next_url(request), "cancel_url": back_url(request)},
            status=409,
        )
    messages.success(request, _("Restored: %(summary)s.") % {"summary": describe_counts(counts)})
    return redirect(back_url(request))


def _confirm_restore(request, items, records, counts, action_url, values):
    total, chosen = sum(counts.values()), len(records)
    notes = []
    if total > chosen:
        notes.append(_("Records deleted together with the selected ones come back with them."))
    return confirm_page(
        request,
        title=_("Restore from the recycle bin?"),
        statement=_("%(summary)s will be restored.") % {"summary": describe_counts(counts)},
        notes=notes,
        records=records,
        action_url=action_url,
        values=values,
        button=_("Restore"),
    )


@bin_view
@require_http_methods(["GET", "POST"])
def restore_one(request, record_type, pk):
    items = [Item(actions.model_for(record_type), url_pk(pk))]
    if confirmed(request):
        return _do_restore(request, items, lambda: actions.restore(items, acting_user=request.user))
    records = labelled(request, items, "restore")
    return _confirm_restore(
        request,
        items,
        records,
        actions.preview_restore(items),
        reverse("bin:restore_one", args=[record_type, pk]),
        {},
    )


@bin_view
@require_http_methods(["GET", "POST"])
def restore_selected(request):
    items = parse_items(request)
    if confirmed(request):
        return _do_restore(request, items, lambda: actions.restore(items, acting_user=request.user))
    records = labelled(request, items, "restore")
    values = {"items": ",".join(item_key(item.model, item.pk) for item in items)}
    return _confirm_restore(request, items, records, actions.preview_restore(items), reverse("bin:restore"), values)


@bin_view
@require_http_methods(["GET", "POST"])
def restore_batch(request, batch):
    """Restore everything one delete moved to the bin (what is left of it)."""
    items = actions.batch_items(batch)
    if not items:
        raise NotInBin(_("Nothing from that deletion is left in the recycle bin."))
    if confirmed(request):
        return _do_restore(request, items, lambda: actions.restore_batch(batch, acting_user=request.user))
    records = labelled(request, items, "restore")
    counts: dict[str, int] = defaultdict(int)
    for item in items:
        counts[item.model._meta.model_name] += 1
    return _confirm_restore(request, items, records, counts, reverse("bin:restore_batch", args=[batch]), {})
