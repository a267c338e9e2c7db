"""The audit log in the browser: the active tenant's events, filtered, paged, exported as CSV.

Admins and managers may read it (nobody writes to it here); everyone else gets
a 403. Only `AuditEvent.objects.filter(tenant=request.tenant)` is ever shown:
AuditEvent is not a TenantModel, so the tenant filter is explicit, and system
events (no tenant) never appear.
"""

from __future__ import annotations

import csv
import json
from datetime import UTC

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from audit import actions
from audit.filters import AuditEventFilter
from audit.models import AuditEvent
from crm.records.registry import record_models
from crm.tenancy.roles import AUDIT_READER_ROLES

PAGE_SIZE = 50
EXPORT_CHUNK = 2000
# Object types other than records, offered as suggestions in the filter.
OTHER_OBJECT_TYPES = {
    "membership": gettext_lazy("membership"),
    "tenant": gettext_lazy("company"),
    "backup": gettext_lazy("backup"),
    "restorerun": gettext_lazy("restore"),
}
CSV_COLUMNS = [
    "seq",
    "time",
    "actor",
    "process",
    "action",
    "object_type",
    "object_id",
    "batch",
    "count",
    "ip",
    "request_id",
    "detail",
]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def require_reader(request) -> None:
    membership = getattr(request, "membership", None)
    if membership is None or membership.role not in AUDIT_READER_ROLES:
        raise PermissionDenied(_("Only administrators and managers may read the audit log."))


def tenant_events(request):
    return AuditEvent.objects.filter(tenant=request.tenant)


def filtered(request):
    """(filterset, queryset): the active tenant's events narrowed by the query string."""
    filterset = AuditEventFilter(request.GET, queryset=tenant_events(request), request=request)
    events = filterset.qs if filterset.is_valid() else AuditEvent.objects.none()
    return filterset, events


def event_rows(events) -> list[dict]:
    types = record_models()
    rows = []
    for event in events:
        model = types.get(event.object_type)
        linkable = model is not None and event.object_id.isdigit() and 0 < int(event.object_id) < 2**63
        rows.append(
            {
                "event": event,
                "type_label": capfirst(
                    model._meta.verbose_name if model else OTHER_OBJECT_TYPES.get(event.object_type, event.object_type)
                ),
                "history_url": reverse("history:record", args=[event.object_type, event.object_id]) if linkable else "",
                "detail": json.dumps(event.detail, ensure_ascii=False, sort_keys=True) if event.detail else "",
            }
        )
    return rows


@login_required
@require_http_methods(["GET", "HEAD"])
def event_list(request):
    require_reader(request)
    filterset, events = filtered(request)
    paginator = Paginator(events.order_by("-created_at", "-seq"), PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "filter": filterset,
        "rows": event_rows(page.object_list),
        "page_obj": page,
        "paginator": paginator,
        "is_filtered": any(value for key, value in request.GET.items() if key != "page"),
        "query_without_page": query.urlencode(),
        "object_types": [(name, capfirst(model._meta.verbose_name)) for name, model in record_models().items()]
        + [(name, capfirst(label)) for name, label in OTHER_OBJECT_TYPES.items()],
    }
    return render(request, "audit/list.html", context)


class _Echo:
    """A file-like object whose write() hands back what it was given (for csv.writer)."""

    def write(self, value):
        return value


def _cell(value) -> str:
    """A CSV cell that spreadsheets will not run as a formula."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def csv_rows(events):
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS)
    columns = (
        "seq",
        "created_at",
        "actor_username",
        "process",
        "action",
        "object_type",
        "object_id",
        "batch",
        "count",
        "ip_address",
        "request_id",
        "detail",
    )
    for row in events.values_list(*columns).iterator(chunk_size=EXPORT_CHUNK):
        seq, created_at, actor, process, action, object_type, object_id, batch, count, ip, request_id, detail = row
        yield writer.writerow(
            [
                seq,
                created_at.astimezone(UTC).isoformat(),
                _cell(actor),
                _cell(process),
                action,
                _cell(object_type),
                _cell(object_id),
                batch or "",
                count,
                ip or "",
                _cell(request_id),
                json.dumps(detail or {}, ensure_ascii=False, sort_keys=True, default=str),
            ]
        )


@login_required
@require_http_methods(["GET"])  # not HEAD: every export is recorded
def export(request):
    """The filtered events as CSV, oldest first (chain order); the export itself is recorded first."""
    require_reader(request)
    filterset, events = filtered(request)
    if not filterset.is_valid():
        return redirect(f"{reverse('audit:list')}?{request.GET.urlencode()}")
    actions.record_export(filterset.used(), acting_user=request.user)
    filename = f"audit-log-{request.tenant.slug}-{timezone.localdate():%Y%m%d}.csv"
    response = StreamingHttpResponse(csv_rows(events.order_by("seq")), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
