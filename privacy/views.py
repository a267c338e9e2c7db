"""Erasure in the browser (admins): the confirmation page, the company's erasures, each report."""

from __future__ import annotations

import json

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from crm.recyclebin.requests import bin_view, confirm_page, confirmed, describe_counts, url_pk
from crm.recyclebin.views import is_admin
from privacy import actions
from privacy.report import erasure_report, erasures


def _require_admin(request) -> None:
    if not is_admin(request):
        raise PermissionDenied(_("Only administrators may erase a person's data."))


@bin_view
@require_http_methods(["GET", "POST"])
def erase(request, record_type, pk):
    """Erase a customer or contact at the person's request, after a confirmation."""
    _require_admin(request)
    model = actions.erasable_model(record_type)
    record = model.all_objects.filter(pk=url_pk(pk)).filter(tenant=request.membership.tenant).first()
    if record is None:
        raise Http404
    actions.check_not_on_hold()
    if confirmed(request):
        event = actions.erase(model, record.pk, acting_user=request.user)
        messages.success(request, _("Erased: %(summary)s.") % {"summary": describe_counts(event.detail["counts"])})
        return redirect("privacy:report", event.pk)
    counts = actions.preview(model, record.pk)
    return confirm_page(
        request,
        title=_("Erase this person's data?"),
        statement=_("%(summary)s will be erased now.") % {"summary": describe_counts(counts)},
        notes=[
            _("Use this for a person's request to erase their data. It skips the recycle bin and cannot be undone."),
            _(
                "Their history keeps dates and who changed what, without the values. Backups restored later will not bring them back."
            ),
        ],
        records=[{"type": capfirst(model._meta.verbose_name), "label": str(record)}],
        action_url=reverse("privacy:erase", args=[record_type, record.pk]),
        values={},
        button=_("Erase now"),
        danger=True,
    )


@bin_view
@require_GET
def erasure_list(request):
    _require_admin(request)
    return render(request, "privacy/erasure_list.html", {"erasures": erasures()})


@bin_view
@require_GET
def report(request, event_id):
    _require_admin(request)
    data = erasure_report(event_id)
    if data is None:
        raise Http404
    if request.GET.get("format") == "json":
        response = HttpResponse(json.dumps(data, indent=2), content_type="application/json")
        response["Content-Disposition"] = f'attachment; filename="erasure-{event_id}.json"'
        return response
    return render(request, "privacy/erasure_report.html", {"report": data, "event_id": event_id})


@bin_view
@require_GET
def personal_data(request, record_type, pk):
    """Everything held about one customer or contact, as a ZIP of JSON and CSV (admins; audited)."""
    model = actions.erasable_model(record_type)
    data = actions.export_personal_data(model, url_pk(pk), acting_user=request.user)
    response = HttpResponse(data, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{record_type}-{pk}-personal-data.zip"'
    response["Cache-Control"] = "no-store"
    return response
