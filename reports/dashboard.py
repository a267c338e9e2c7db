"""The dashboard's small charts: the funnel of the last twelve months and the next six months' forecast."""

from crm.records.registry import DashboardPanel
from reports.catalogue import REPORTS, may_read
from reports.filters import ReportFilterForm
from reports.views import view_table


def sales_charts(user) -> dict | None:
    funnel, forecast = REPORTS["funnel"], REPORTS["forecast"]
    if not may_read(user, funnel):
        return None
    items = {}
    for name, report in (("funnel", funnel), ("forecast", forecast)):
        form = ReportFilterForm({}, forward=report.forward)
        form.is_valid()
        items[name] = view_table(report.compute(user, form.filters())[0])
    return {"report_charts": items}


PANELS = (DashboardPanel("reports/_dashboard_charts.html", sales_charts, column="top", order=5),)
