"""The company export in the browser (administrators): a page that says what the file holds,
and the download itself (`/exports/company.zip`), recorded before the first byte leaves."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from crm.exports import actions
from crm.exports.company import company_zip
from crm.records.registry import record_types
from crm.tenancy.context import current_tenant
from crm.tenancy.roles import Role


def _require_admin(request) -> None:
    membership = getattr(request, "membership", None)
    if membership is None or membership.role != Role.ADMIN:
        raise PermissionDenied(_("Only administrators may export the whole company."))


def company_zip_response(user) -> StreamingHttpResponse:
    """Record the export (the action checks the role), then stream the archive."""
    tenant = current_tenant()
    counts = actions.record_company_export(acting_user=user)
    content = company_zip(tenant, counts=counts, exported_by=user.get_username())
    response = StreamingHttpResponse(content, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{tenant.slug}-export-{timezone.localdate():%Y%m%d}.zip"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def company_page(request):
    _require_admin(request)
    counts = actions.company_counts()
    types = [(entry.verbose_name_plural, counts[name]) for name, entry in record_types().items()]
    return render(request, "exports/company.html", {"types": types})


@login_required
@require_GET
def company_download(request):
    _require_admin(request)
    return company_zip_response(request.user)
