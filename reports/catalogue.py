"""The reports: their names in URLs and the API, titles, which records they read, and their queries."""

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from crm.tenancy.querysets import membership_for
from crm.tenancy.roles import role_may
from reports.queries import customers, sales, service


@dataclass(frozen=True)
class Report:
    slug: str
    title: str
    description: str
    reads: str  # the record type a role must be allowed to view
    compute: Callable  # (user, Filters) -> list[Table]
    forward: bool = False  # its default period looks ahead (the forecast)
    uses_currency: bool = True


REPORTS = {
    report.slug: report
    for report in (
        Report(
            "funnel",
            _("Funnel"),
            _("Opportunities reaching each stage in the period, and the conversion between stages."),
            "opportunity",
            sales.funnel,
        ),
        Report(
            "win-rate",
            _("Win rate"),
            _("Deals won and lost by owner and by month, average deal size and sales cycle length."),
            "opportunity",
            sales.win_rate,
        ),
        Report(
            "lost-reasons",
            _("Lost reasons"),
            _("Why deals were lost in the period."),
            "opportunity",
            sales.lost_reasons,
        ),
        Report(
            "forecast",
            _("Forecast"),
            _("Open pipeline by expected close month, weighted by probability, per currency, against what was won."),
            "opportunity",
            sales.forecast,
            forward=True,
        ),
        Report(
            "tickets",
            _("Tickets"),
            _("Opened and resolved per week, the backlog by priority, resolution time and due times kept."),
            "ticket",
            service.tickets,
            uses_currency=False,
        ),
        Report(
            "customers",
            _("Customers"),
            _("New customers per month, by status, tier and industry, and customers churned."),
            "customer",
            customers.customers,
            uses_currency=False,
        ),
    )
}


def may_read(user, report: Report) -> bool:
    membership = membership_for(user)
    return membership is not None and role_may(membership.role, "view", report.reads)


def readable(user) -> list[Report]:
    return [report for report in REPORTS.values() if may_read(user, report)]
