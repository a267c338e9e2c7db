"""Reports pages: the list, one report (filters, a chart and its table per result), its CSV export."""

import csv
import io
import json

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from reports import actions
from reports.catalogue import REPORTS, may_read, readable
from reports.filters import ReportFilterForm
from reports.tables import as_json, chart_data, plain, rendered_rows

# Cells a spreadsheet would run as a formula get a leading apostrophe (as the audit log's export).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def report_for(request, slug: str):
    """The report named `slug`: 404 when there is none, 403 when the role may not read its records."""
    report = REPORTS.get(slug)
    if report is None:
        raise Http404(_("There is no such report."))
    if not may_read(request.user, report):
        raise PermissionDenied(_("You may not read this report."))
    return report


def view_table(table) -> dict:
    chart = chart_data(table)
    return {
        "table": table,
        "headers": [column.label for column in table.columns],
        "kinds": [column.kind for column in table.columns],
        "rows": rendered_rows(table),
        "chart_json": json.dumps(chart, ensure_ascii=False) if chart else "",
    }


@login_required
@require_GET
def index(request):
    if not readable(request.user):
        raise PermissionDenied(_("You may not read any report."))
    return render(request, "reports/index.html", {"reports": readable(request.user)})


@login_required
@require_GET
def report_page(request, slug):
    report = report_for(request, slug)
    form = ReportFilterForm(request.GET, forward=report.forward)
    if not report.uses_currency:
        del form.fields["currency"]
    tables = []
    if form.is_valid():
        tables = [view_table(table) for table in report.compute(request.user, form.filters())]
    context = {
        "report": report,
        "form": form,
        "tables": tables,
        "query": request.GET.urlencode(),
        "reports": readable(request.user),
    }
    return render(request, "reports/report.html", context, status=200 if form.is_valid() else 400)


def _cell(value) -> str:
    text = "" if value is None else str(plain(value))
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def csv_text(report, filters, tables) -> str:
    """Each table under its title; numbers and ISO dates as they are, so a spreadsheet can compute."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([str(report.title), filters.start.isoformat(), filters.end.isoformat(), filters.currency])
    for table in tables:
        writer.writerow([])
        writer.writerow([_cell(table.title)])
        writer.writerow([_cell(column.label) for column in table.columns])
        for row in table.rows:
            writer.writerow([_cell(row[column.key]) for column in table.columns])
    return out.getvalue()


@login_required
@require_http_methods(["GET"])  # not HEAD: every export is recorded
def export(request, slug):
    report = report_for(request, slug)
    form = ReportFilterForm(request.GET, forward=report.forward)
    if not form.is_valid():
        return render(
            request,
            "reports/report.html",
            {"report": report, "form": form, "tables": [], "query": "", "reports": readable(request.user)},
            status=400,
        )
    filters = form.filters()
    tables = report.compute(request.user, filters)
    actions.record_report_export(report, filters, sum(len(t.rows) for t in tables), acting_user=request.user)
    response = HttpResponse("\ufeff" + csv_text(report, filters, tables), content_type="text/csv; charset=utf-8")
    filename = f"report-{report.slug}-{request.tenant.slug}-{timezone.localdate():%Y%m%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


def api_payload(report, filters, tables) -> dict:
    return {
        "report": report.slug,
        "title": str(report.title),
        "filters": filters.used(),
        "tables": [as_json(table) for table in tables],
    }
