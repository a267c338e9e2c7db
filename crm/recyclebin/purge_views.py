"""Browser pages that delete for good: purge, empty the bin, and admins' per-record purge grants."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from crm.records.permissions import purgeable
from crm.records.purge import PurgeRefused
from crm.records.registry import record_models
from crm.recyclebin import actions
from crm.recyclebin.actions import by_model
from crm.recyclebin.forms import GrantPurgeForm
from crm.recyclebin.requests import (
    back_url,
    bin_view,
    confirm_page,
    confirmed,
    describe_counts,
    item_key,
    labelled,
    needs_approval,
    parse_items,
    problem,
    reason,
    url_pk,
)
from crm.recyclebin.views import is_admin
from crm.tenancy.context import current_tenant
from crm.tenancy.members import display_name, tenant_members


def _purge_result(request, action):
    try:
        counts = action()
    except PurgeRefused as refusal:
        return problem(request, 409, str(refusal))
    messages.success(request, _("Permanently deleted: %(summary)s.") % {"summary": describe_counts(counts)})
    return redirect(back_url(request))


@bin_view
@require_http_methods(["GET", "POST"])
def purge(request):
    """Permanently delete selected bin items (per-object permission, checked by the action)."""
    items = parse_items(request)
    actions.check_not_on_hold()
    if confirmed(request):
        return _purge_result(request, lambda: actions.purge(items, acting_user=request.user, reason=reason(request)))
    records = labelled(request, items, "purge")
    for model, ids in by_model(items).items():
        if purgeable(request.membership, model.deleted.filter(pk__in=ids)).count() != len(ids):
            raise PermissionDenied(_("You may not permanently delete some of these records."))
    counts = actions.preview_purge(items)
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
        approval=needs_approval("purge", len(items)),
    )


@bin_view
@require_http_methods(["GET", "POST"])
def empty(request):
    """Admins: permanently delete everything in the company's recycle bin."""
    if not is_admin(request):
        raise PermissionDenied(_("Only administrators may empty the recycle bin."))
    actions.check_not_on_hold()
    if confirmed(request):
        return _purge_result(request, lambda: actions.empty_bin(acting_user=request.user, reason=reason(request)))
    counts = {
        name: count
        for name, model in record_models().items()
        if (count := purgeable(request.membership, model.deleted.all()).count())
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
        approval=needs_approval("empty_bin", sum(counts.values())),
    )


# -- purge grants ------------------------------------------------------------------


def _admin_bin_record(request, record_type, pk):
    if not is_admin(request):
        raise PermissionDenied(_("Only administrators may grant or revoke permanent deletion."))
    model = actions.model_for(record_type)
    record = model.deleted.for_user(request.user, "restore").filter(pk=url_pk(pk)).first()
    if record is None:
        raise actions.NotInBin(_("That record is not in the recycle bin: it may have been restored or purged already."))
    return model, record


@bin_view
@require_POST
def grant_purge(request, record_type, pk):
    """Admins let one manager permanently delete this one record."""
    _model, record = _admin_bin_record(request, record_type, pk)
    form = GrantPurgeForm(request.POST)
    if form.is_valid():
        manager = form.cleaned_data["user"]
        actions.grant_purge(manager, record, acting_user=request.user)
        messages.success(
            request,
            _("%(user)s may now permanently delete “%(record)s”.") % {"user": display_name(manager), "record": record},
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
        actions.revoke_purge(user, record, acting_user=request.user)
        messages.success(
            request,
            _("%(user)s may no longer permanently delete “%(record)s”.")
            % {"user": display_name(user), "record": record},
        )
    else:
        messages.error(request, _("Choose a member of this company."))
    return redirect("bin:item", record_type, record.pk)
