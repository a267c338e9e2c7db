"""Browser pages for soft delete, undo and the recycle bin.

Thin views over crm.recyclebin: every write is one of its actions (which check
who may do what), every read goes through `Model.objects` / `Model.deleted`
`.for_user(...)` or its listing functions, all scoped to the active tenant.
Each change is confirmed first on a page that says what will happen to how
many records; the change itself is a POST with `confirm=1`.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from functools import wraps

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from guardian.shortcuts import get_users_with_perms

from crm import recyclebin, softdelete
from crm.bin_forms import BinFilterForm, GrantPurgeForm, managers, member_label
from crm.filters import tenant_members
from crm.pagination import CappedCountPaginator
from crm.permissions import Role, purge_permission, purgeable, role_may
from crm.recyclebin import Item
from crm.tenancy.context import current_tenant

PAGE_SIZE = 25
MAX_IDS = 1000
MAX_PK = 2**63 - 1  # PostgreSQL bigint
SHOWN_RECORDS = 100  # records listed by name on a confirmation page; the rest are counted
DELETABLE_TYPES = ("customer", "contact", "interaction", "opportunity", "ticket")
ID_PATTERN = re.compile(r"[0-9]{1,19}")


class BadInput(Exception):
    """A malformed request (bad ids, too many records): a 400 page with this message."""


# -- plumbing ----------------------------------------------------------------------


def bin_view(view):
    """Signed-in members only; refusals become clear 400/403/404 pages, never a 500."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except BadInput as error:
            return problem(request, 400, str(error))
        except PermissionDenied as error:
            return problem(request, 403, str(error) or _("You may not do that."))
        except recyclebin.NotInBin as error:
            return problem(request, 404, str(error) or _("That record is not in the recycle bin."))
        except Http404:
            return problem(request, 404, _("That record does not exist or is not visible to you."))

    return login_required(wrapper)


def problem(request, status: int, message: str):
    titles = {400: _("Bad request"), 403: _("Not allowed"), 404: _("Not found"), 409: _("Not possible")}
    return render(
        request,
        "recyclebin/problem.html",
        {"status": status, "title": titles.get(status, _("Error")), "message": message, "back_url": back_url(request)},
        status=status,
    )


def next_url(request) -> str:
    """The `next` parameter when it points to this site, else ""."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return ""


def back_url(request) -> str:
    return next_url(request) or reverse("bin:list")


def confirmed(request) -> bool:
    return request.method == "POST" and request.POST.get("confirm") == "1"


def _values(request, name) -> list[str]:
    data = request.POST if request.method == "POST" else request.GET
    return [part.strip() for value in data.getlist(name) for part in value.split(",") if part.strip()]


def _check_count(count: int) -> None:
    if not count:
        raise BadInput(_("Select at least one record."))
    if count > MAX_IDS:
        raise BadInput(
            _("You selected %(count)s records; at most %(max)s can be handled at once.")
            % {"count": count, "max": MAX_IDS}
        )


def _pk(text: str) -> int:
    if not ID_PATTERN.fullmatch(text) or not 0 < int(text) <= MAX_PK:
        raise BadInput(_("Record ids must be positive whole numbers."))
    return int(text)


def parse_ids(request) -> list[int]:
    """`ids` (repeated and/or comma-separated) -> distinct primary keys, in the order given."""
    values = _values(request, "ids")
    _check_count(len(values))
    return list(dict.fromkeys(_pk(value) for value in values))


def parse_items(request) -> list[Item]:
    """`items` of the form "type:id" -> distinct recycle-bin items."""
    values = _values(request, "items")
    _check_count(len(values))
    types = recyclebin.record_types()
    items = []
    for value in values:
        name, _sep, pk = value.partition(":")
        if name not in types:
            raise BadInput(_("Unknown record type: %(type)s") % {"type": name[:30]})
        items.append(Item(types[name], _pk(pk)))
    return list(dict.fromkeys(items))


def url_pk(pk: int) -> int:
    if not 0 < pk <= MAX_PK:
        raise recyclebin.NotInBin(_("That record is not in the recycle bin."))
    return pk


def item_key(model, pk) -> str:
    return f"{model._meta.model_name}:{pk}"


def by_model(items: list[Item]) -> dict[type, list[int]]:
    grouped: dict[type, list[int]] = defaultdict(list)
    for item in items:
        grouped[item.model].append(item.pk)
    return grouped


def describe_counts(counts: dict[str, int]) -> str:
    """{"customer": 1, "contact": 3} -> "1 customer, 3 contacts" (in cascade order)."""
    parts = []
    for name, model in recyclebin.record_types().items():
        count = counts.get(name)
        if count:
            noun = model._meta.verbose_name if count == 1 else model._meta.verbose_name_plural
            parts.append(_("%(count)s %(type)s") % {"count": count, "type": noun})
    return pgettext("list separator", ", ").join(parts) or _("no records")


def membership(request):
    return getattr(request, "membership", None)


def is_admin(request) -> bool:
    member = membership(request)
    return bool(member) and member.role == Role.ADMIN


def restorable_types(request) -> dict[str, type]:
    member = membership(request)
    if member is None:
        return {}
    return {name: model for name, model in recyclebin.record_types().items() if role_may(member.role, "restore", name)}


def retention_note(tenant) -> str:
    if tenant.legal_hold:
        return _("This company is on legal hold: nothing in the recycle bin is purged.")
    return ngettext(
        "Deleted records stay in the recycle bin for %(days)s day, then they are purged.",
        "Deleted records stay in the recycle bin for %(days)s days, then they are purged.",
        tenant.retention_days,
    ) % {"days": tenant.retention_days}


def confirm_page(request, *, title, statement, records, action_url, values, button, danger=False, notes=(), status=200):
    """The one confirmation page: what will happen, to which records, and a Confirm button."""
    shown = records[:SHOWN_RECORDS]
    return render(
        request,
        "recyclebin/confirm.html",
        {
            "title": title,
            "statement": statement,
            "notes": notes,
            "records": shown,
            "more": len(records) - len(shown),
            "action_url": action_url,
            "hidden_fields": list(values.items()),
            "button": button,
            "danger": danger,
            "next": next_url(request),
            "cancel_url": back_url(request),
        },
        status=status,
    )


def labelled(request, items: list[Item], action: str) -> list[dict]:
    """Type and label of each item in the bin the user may see for `action` (404 otherwise)."""
    rows = []
    for model, ids in by_model(items).items():
        scope = model.deleted.for_user(request.user, "restore" if action == "restore" else "view")
        found = {record.pk: record for record in scope.filter(pk__in=ids)}
        missing = [pk for pk in ids if pk not in found]
        if missing:
            raise recyclebin.NotInBin(
                _("%(type)s %(id)s is not in the recycle bin: it may have been restored or purged already.")
                % {"type": capfirst(model._meta.verbose_name), "id": missing[0]}
            )
        rows.extend({"type": capfirst(model._meta.verbose_name), "label": str(found[pk])} for pk in ids)
    return rows


# -- delete and undo ---------------------------------------------------------------


@bin_view
@require_http_methods(["GET", "POST"])
def delete(request, record_type):
    """Confirm, then move records (with their children) to the recycle bin as one batch."""
    if record_type not in DELETABLE_TYPES:
        raise Http404
    model = recyclebin.model_for(record_type)
    member = membership(request)
    if member is None or not role_may(member.role, "delete", record_type):
        raise PermissionDenied(_("Your role may not delete %(types)s.") % {"types": model._meta.verbose_name_plural})
    ids = parse_ids(request)
    queryset = model.objects.filter(pk__in=ids)
    if confirmed(request):
        batch = recyclebin.delete(request.user, queryset)
        if batch.total:
            messages.success(
                request,
                _("Moved to the recycle bin: %(summary)s.") % {"summary": describe_counts(batch.counts)},
                extra_tags=f"undo:{batch.id}",
            )
        else:
            messages.warning(request, _("Nothing was deleted: the records were already in the recycle bin."))
        return redirect(back_url(request))

    found = {record.pk: record for record in model.objects.for_user(request.user, "view").filter(pk__in=ids)}
    missing = len(ids) - len(found)
    if missing:
        raise recyclebin.NotInBin(
            ngettext(
                "%(count)s of the selected records does not exist, is not visible to you or is already in the recycle bin.",
                "%(count)s of the selected records do not exist, are not visible to you or are already in the recycle bin.",
                missing,
            )
            % {"count": missing}
        )
    counts = recyclebin.preview(request.user, queryset)  # PermissionDenied when not allowed
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
        values={"ids": ",".join(map(str, ids))},
        button=_("Move to the recycle bin"),
        danger=True,
    )


@bin_view
@require_POST
def undo(request, batch):
    """Restore exactly what one delete moved to the bin (the Undo button of its message)."""
    try:
        counts = recyclebin.restore_batch(request.user, batch)
    except recyclebin.NotInBin:
        messages.warning(request, _("Nothing to undo: those records were already restored or purged."))
    except softdelete.RestoreConflict as conflict:
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
    form = BinFilterForm(
        request.GET or None,
        type_choices=[(name, capfirst(model._meta.verbose_name_plural)) for name, model in types.items()],
    )
    if form.is_bound and not form.is_valid():
        entries = []
    else:
        entries = recyclebin.entries(request.user, **(form.entries_filters() if form.is_bound else {}))
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
        },
    )


def bin_rows(request, entries: list[dict], tenant) -> list[dict]:
    """Decorate one page of entries; a fixed number of queries whatever the page size."""
    entries = [entry for entry in entries if "type" in entry]
    user_ids = {entry["deleted_by_id"] for entry in entries if entry["deleted_by_id"]}
    users = (
        {user.pk: member_label(user) for user in get_user_model().objects.filter(pk__in=user_ids)} if user_ids else {}
    )
    sizes = recyclebin.batch_sizes({entry["deletion_batch"] for entry in entries})
    types = recyclebin.record_types()
    ids_by_type: dict[str, list[int]] = defaultdict(list)
    for entry in entries:
        ids_by_type[entry["type"]].append(entry["id"])
    may_purge = set()
    for name, ids in ids_by_type.items():
        model = types[name]
        allowed = (
            purgeable(membership(request), model.deleted.filter(pk__in=ids)).order_by().values_list("pk", flat=True)
        )
        may_purge |= {(name, pk) for pk in allowed}
    now = timezone.now()
    rows = []
    for entry in entries:
        model = types[entry["type"]]
        purge_at = recyclebin.purge_after(tenant, entry["deleted_at"])
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
    model = recyclebin.model_for(record_type)
    record = model.deleted.for_user(request.user, "restore").select_related("deleted_by").filter(pk=url_pk(pk)).first()
    if record is None:
        raise recyclebin.NotInBin(
            _("That record is not in the recycle bin: it may have been restored or purged already.")
        )
    tenant = current_tenant()
    context = {
        "record": record,
        "type": record_type,
        "type_label": capfirst(model._meta.verbose_name),
        "key": item_key(model, record.pk),
        "deleted_by": member_label(record.deleted_by) if record.deleted_by else "",
        "batch_size": recyclebin.batch_sizes([record.deletion_batch]).get(record.deletion_batch, 1),
        "purge_at": recyclebin.purge_after(tenant, record.deleted_at),
        "tenant": tenant,
        "can_purge": not tenant.legal_hold
        and purgeable(membership(request), model.deleted.filter(pk=record.pk)).exists(),
        "is_admin": is_admin(request),
    }
    if context["is_admin"]:
        codename = purge_permission(model).split(".", 1)[1]
        holders = get_users_with_perms(record, only_with_perms_in=[codename], with_group_users=False)
        context["grants"] = [{"id": user.pk, "name": member_label(user)} for user in holders.order_by("username")]
        granted = {grant["id"] for grant in context["grants"]}
        context["grant_form"] = GrantPurgeForm()
        context["grant_form"].fields["user"].queryset = managers().exclude(pk__in=granted)
        context["can_grant"] = context["grant_form"].fields["user"].queryset.exists()
    return render(request, "recyclebin/item.html", context)


# -- restore -----------------------------------------------------------------------


def _do_restore(request, items: list[Item], restore):
    """Run a restore action; a refusal is a 409 page offering to restore the parent too."""
    try:
        counts = restore()
    except softdelete.RestoreConflict as conflict:
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
    items = [Item(recyclebin.model_for(record_type), url_pk(pk))]
    if confirmed(request):
        return _do_restore(request, items, lambda: recyclebin.restore(request.user, items))
    records = labelled(request, items, "restore")
    return _confirm_restore(
        request,
        items,
        records,
        recyclebin.preview_restore(items),
        reverse("bin:restore_one", args=[record_type, pk]),
        {},
    )


@bin_view
@require_http_methods(["GET", "POST"])
def restore_selected(request):
    items = parse_items(request)
    if confirmed(request):
        return _do_restore(request, items, lambda: recyclebin.restore(request.user, items))
    records = labelled(request, items, "restore")
    values = {"items": ",".join(item_key(item.model, item.pk) for item in items)}
    return _confirm_restore(request, items, records, recyclebin.preview_restore(items), reverse("bin:restore"), values)


@bin_view
@require_http_methods(["GET", "POST"])
def restore_batch(request, batch):
    """Restore everything one delete moved to the bin (what is left of it)."""
    items = recyclebin.batch_items(batch)
    if not items:
        raise recyclebin.NotInBin(_("Nothing from that deletion is left in the recycle bin."))
    if confirmed(request):
        return _do_restore(request, items, lambda: recyclebin.restore_batch(request.user, batch))
    records = labelled(request, items, "restore")
    counts: dict[str, int] = defaultdict(int)
    for item in items:
        counts[item.model._meta.model_name] += 1
    return _confirm_restore(request, items, records, counts, reverse("bin:restore_batch", args=[batch]), {})


# -- purge -------------------------------------------------------------------------


def _purge_result(request, action):
    try:
        counts = action()
    except softdelete.PurgeRefused as refusal:
        return problem(request, 409, str(refusal))
    messages.success(request, _("Permanently deleted: %(summary)s.") % {"summary": describe_counts(counts)})
    return redirect(back_url(request))


@bin_view
@require_http_methods(["GET", "POST"])
def purge(request):
    """Permanently delete selected bin items (per-object permission, checked by the action)."""
    items = parse_items(request)
    recyclebin.check_purge_allowed(request.user)
    if confirmed(request):
        return _purge_result(request, lambda: recyclebin.purge(request.user, items))
    records = labelled(request, items, "purge")
    for model, ids in by_model(items).items():
        if purgeable(membership(request), model.deleted.filter(pk__in=ids)).count() != len(ids):
            raise PermissionDenied(_("You may not permanently delete some of these records."))
    counts = recyclebin.preview_purge(items)
    return confirm_page(
        request,
        title=_("Delete permanently?"),
        statement=_("%(summary)s will be permanently deleted.") % {"summary": describe_counts(counts)},
        notes=[_("This cannot be undone: the records cannot be restored afterwards.")],
        records=records,
        action_url=reverse("bin:purge"),
        values={"items": ",".join(item_key(item.model, item.pk) for item in items)},
        button=_("Delete permanently"),
        danger=True,
    )


@bin_view
@require_http_methods(["GET", "POST"])
def empty(request):
    """Admins: permanently delete everything in the company's recycle bin."""
    if not is_admin(request):
        raise PermissionDenied(_("Only administrators may empty the recycle bin."))
    recyclebin.check_purge_allowed(request.user)
    if confirmed(request):
        return _purge_result(request, lambda: recyclebin.empty_bin(request.user))
    counts = {
        name: count
        for name, model in recyclebin.record_types().items()
        if (count := purgeable(membership(request), model.deleted.all()).count())
    }
    if not counts:
        messages.info(request, _("The recycle bin is already empty."))
        return redirect("bin:list")
    return confirm_page(
        request,
        title=_("Empty the recycle bin?"),
        statement=_("%(summary)s will be permanently deleted.") % {"summary": describe_counts(counts)},
        notes=[
            _("This is everything in the recycle bin of %(company)s. It cannot be undone.")
            % {"company": current_tenant()}
        ],
        records=[],
        action_url=reverse("bin:empty"),
        values={},
        button=_("Empty the recycle bin"),
        danger=True,
    )


# -- purge grants ------------------------------------------------------------------


def _admin_bin_record(request, record_type, pk):
    if not is_admin(request):
        raise PermissionDenied(_("Only administrators may grant or revoke permanent deletion."))
    model = recyclebin.model_for(record_type)
    record = model.deleted.for_user(request.user, "restore").filter(pk=url_pk(pk)).first()
    if record is None:
        raise recyclebin.NotInBin(
            _("That record is not in the recycle bin: it may have been restored or purged already.")
        )
    return model, record


@bin_view
@require_POST
def grant_purge(request, record_type, pk):
    """Admins let one manager permanently delete this one record."""
    _model, record = _admin_bin_record(request, record_type, pk)
    form = GrantPurgeForm(request.POST)
    if form.is_valid():
        manager = form.cleaned_data["user"]
        recyclebin.grant_purge(request.user, manager, record)
        messages.success(
            request,
            _("%(user)s may now permanently delete “%(record)s”.") % {"user": member_label(manager), "record": record},
        )
    else:
        messages.error(request, _("Choose a manager of this company."))
    return redirect("bin:item", record_type, record.pk)


@bin_view
@require_POST
def revoke_purge(request, record_type, pk):
    _model, record = _admin_bin_record(request, record_type, pk)
    form = GrantPurgeForm(request.POST)
    form.fields["user"].queryset = tenant_members()
    if form.is_valid():
        user = form.cleaned_data["user"]
        recyclebin.revoke_purge(request.user, user, record)
        messages.success(
            request,
            _("%(user)s may no longer permanently delete “%(record)s”.")
            % {"user": member_label(user), "record": record},
        )
    else:
        messages.error(request, _("Choose a member of this company."))
    return redirect("bin:item", record_type, record.pk)
