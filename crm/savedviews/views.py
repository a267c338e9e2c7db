"""The list header's saved-view buttons: save the current view, rename or re-save it, delete it,
make it my default or stop the default. Each is a POST that calls one action and goes back to
the list; a refusal is a message there, never a 500."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.approvals.gate import ApprovalRequested
from crm.recyclebin import actions as recyclebin
from crm.savedviews import actions
from crm.savedviews.models import SavedView
from crm.tenancy.acting import ActionConflict
from crm.web.redirects import next_url


def _visible(request, pk) -> SavedView:
    """One of the user's own views or a shared one (another person's private view is a 404)."""
    return get_object_or_404(SavedView.objects.for_user(request.user, "view"), pk=pk)


def _back(request, view=None) -> HttpResponseRedirect:
    target = view.get_absolute_url() if view is not None and not view.is_deleted else next_url(request)
    if not target:
        try:
            target = reverse(request.POST.get("list_name", "") or "dashboard")
        except NoReverseMatch:
            target = reverse("dashboard")
    return HttpResponseRedirect(target)


def _refused(request, error) -> None:
    if isinstance(error, ValidationError):
        messages.error(request, " ".join(error.messages))
    else:
        messages.error(request, str(error) or _("You may not do this."))


@require_POST
@login_required
def save(request):
    try:
        view = actions.save_view(
            request.POST.get("list_name", ""),
            request.POST.get("name", ""),
            request.POST.get("query", ""),
            shared=request.POST.get("shared") == "on",
            acting_user=request.user,
        )
    except (ValidationError, PermissionDenied) as error:
        _refused(request, error)
        return _back(request)
    messages.success(request, _("View “%(name)s” saved.") % {"name": view.name})
    return _back(request, view)


@require_POST
@login_required
def change(request, pk):
    view = _visible(request, pk)
    values = {}
    if "name" in request.POST:
        values["name"] = request.POST["name"]
    if "query" in request.POST:
        values["query"] = request.POST["query"]
    if "shared" in request.POST or "name" in request.POST:
        values["shared"] = request.POST.get("shared") == "on"
    try:
        view = actions.update_view(view, acting_user=request.user, **values)
    except (ValidationError, PermissionDenied, ActionConflict) as error:
        _refused(request, error)
        return _back(request)
    messages.success(request, _("View “%(name)s” saved.") % {"name": view.name})
    return _back(request, view)


@require_POST
@login_required
def delete(request, pk):
    view = _visible(request, pk)
    try:
        recyclebin.delete(SavedView.objects.filter(pk=view.pk), acting_user=request.user)
    except PermissionDenied as error:
        _refused(request, error)
        return _back(request)
    except ApprovalRequested:
        messages.info(request, _("Deleting needs approval; it is asked for."))
        return _back(request)
    messages.success(request, _("View “%(name)s” moved to the recycle bin.") % {"name": view.name})
    return HttpResponseRedirect(f"{reverse(view.list_name)}?view=")


@require_POST
@login_required
def make_default(request, pk):
    view = _visible(request, pk)
    try:
        actions.make_default(view, acting_user=request.user)
    except PermissionDenied as error:
        _refused(request, error)
        return _back(request)
    messages.success(request, _("This list now opens with “%(name)s”.") % {"name": view.name})
    return _back(request, view)


@require_POST
@login_required
def clear_default(request, pk):
    view = _visible(request, pk)
    actions.clear_default(view.list_name, acting_user=request.user)
    messages.success(request, _("This list opens without filters again."))
    return _back(request, view)
