"""Deletion approval in the browser: the approvals list, approve and refuse, and the company's setting.

Thin over crm.approvals.actions; refusals become the recycle bin's clear 403/404/409
pages (crm.recyclebin.requests.bin_view), never a 500.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crm.approvals import actions
from crm.approvals.forms import PolicyForm
from crm.approvals.listing import visible_to
from crm.approvals.models import ApprovalRequest
from crm.records.registry import record_models
from crm.recyclebin.requests import bin_view, describe_counts
from crm.tenancy.members import display_name
from crm.tenancy.roles import Role
from crm.web.forms import add_errors

SHOWN = 100  # requests per list (waiting, answered); older answered ones are in the audit log
Status = ApprovalRequest.Status


def _role(request):
    return request.membership.role if request.membership else None


def describe(approval) -> str:
    """ "Bulk delete: 25 customers", "Permanent delete: 3 records", "Empty the recycle bin: 40 records"."""
    model = record_models().get(approval.record_type)
    if model is not None:
        noun = model._meta.verbose_name if approval.count == 1 else model._meta.verbose_name_plural
    else:
        noun = _("record") if approval.count == 1 else _("records")
    return _("%(what)s: %(count)s %(noun)s") % {
        "what": approval.get_kind_display(),
        "count": approval.count,
        "noun": noun,
    }


def shown_status(approval) -> str:
    """Its status as people should read it: a request past its time has expired, swept or not yet."""
    if approval.status == Status.PENDING and not approval.is_open:
        return Status.EXPIRED
    return approval.status


def rows(request, approvals) -> list[dict]:
    role = _role(request)
    return [
        {
            "approval": approval,
            "what": describe(approval),
            "requested_by": display_name(approval.requested_by),
            "decided_by": display_name(approval.decided_by),
            "status": shown_status(approval),
            "status_label": Status(shown_status(approval)).label,
            "may_decide": approval.is_open and actions.may_decide(approval, request.user, role),
            "result": describe_counts(approval.result) if approval.result else "",
        }
        for approval in approvals
    ]


@bin_view
@require_GET
def approval_list(request):
    if request.membership is None:
        raise PermissionDenied(_("You are not a member of this company."))
    visible = visible_to(request.user)
    waiting = list(visible.filter(status=Status.PENDING).order_by("expires_at", "pk")[:SHOWN])
    answered = list(visible.exclude(status=Status.PENDING).order_by("-decided_at", "-pk")[:SHOWN])
    return render(
        request,
        "approvals/list.html",
        {
            "waiting": rows(request, waiting),
            "answered": rows(request, answered),
            "is_admin": _role(request) == Role.ADMIN,
            "policy": actions.policy(),
        },
    )


def _visible(request, pk):
    return get_object_or_404(visible_to(request.user), pk=pk)


@bin_view
@require_POST
def approve(request, pk):
    approval = actions.approve(_visible(request, pk), acting_user=request.user)
    summary = describe_counts(approval.result)
    if approval.batch:
        messages.success(
            request,
            _("Approved: %(summary)s moved to the recycle bin.") % {"summary": summary},
            extra_tags=f"undo:{approval.batch}",
        )
    else:
        messages.success(request, _("Approved: %(summary)s permanently deleted.") % {"summary": summary})
    return redirect("approvals:list")


@bin_view
@require_POST
def refuse(request, pk):
    actions.refuse(_visible(request, pk), acting_user=request.user)
    messages.success(request, _("Refused: nothing was deleted, and the requester will be told."))
    return redirect("approvals:list")


@bin_view
@require_http_methods(["GET", "POST"])
def policy_settings(request):
    """Admins: whether deletes need a second person, above how many records, answered within how long."""
    if _role(request) != Role.ADMIN:
        raise PermissionDenied(_("Only administrators may change the deletion approval setting."))
    current = actions.policy()
    form = PolicyForm(request.POST or None, instance=current)
    if request.method == "POST" and form.is_valid():
        try:
            actions.update_policy(acting_user=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("The deletion approval setting was saved."))
            return redirect("approvals:list")
    return render(request, "approvals/settings.html", {"form": form, "title": capfirst(_("deletion approval"))})
