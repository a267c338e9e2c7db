"""Support's report: SLA times per assignee, tickets opened and resolved per week, the backlog by priority,
resolution times."""

from django.db.models import Aggregate, Avg, Count, F, FloatField, Func, Q
from django.db.models.functions import TruncWeek
from django.utils.translation import gettext_lazy as _

from customers.models import Ticket
from reports.filters import Filters
from reports.queries.common import bounds, day, days, percent, weeks
from reports.tables import Chart, Column, Table

PRIORITY_ORDER = ("urgent", "high", "normal", "low")


def tickets_of(user, filters: Filters):
    """The tickets the user may see; the owner filter is the assignee (currency does not apply)."""
    queryset = Ticket.objects.for_user(user)
    if filters.owner is not None:
        queryset = queryset.filter(assignee=filters.owner)
    return queryset


def tickets(user, filters: Filters) -> list[Table]:
    start, end = bounds(filters)
    scoped = tickets_of(user, filters)
    opened = {
        day(row["week"]): row["count"]
        for row in scoped.filter(created_at__gte=start, created_at__lt=end)
        .annotate(week=TruncWeek("created_at"))
        .values("week")
        .annotate(count=Count("id"))
        .order_by()
    }
    resolved = {
        day(row["week"]): row["count"]
        for row in scoped.filter(resolved_at__gte=start, resolved_at__lt=end)
        .annotate(week=TruncWeek("resolved_at"))
        .values("week")
        .annotate(count=Count("id"))
        .order_by()
    }
    per_week = [
        {"week": week, "opened": opened.get(week, 0), "resolved": resolved.get(week, 0)} for week in weeks(filters)
    ]

    backlog_counts = dict(
        scoped.filter(status__in=Ticket.OPEN_STATUSES)
        .values("priority")
        .annotate(count=Count("id"))
        .values_list("priority", "count")
        .order_by()
    )
    labels = dict(Ticket.Priority.choices)
    backlog = [{"priority": labels[p], "count": backlog_counts.get(p, 0)} for p in PRIORITY_ORDER]

    done = scoped.filter(resolved_at__gte=start, resolved_at__lt=end)
    summary = done.aggregate(
        resolved=Count("id"),
        average=Avg(F("resolved_at") - F("created_at")),
        with_due=Count("id", filter=Q(due_at__isnull=False)),
        within_due=Count("id", filter=Q(resolved_at__lte=F("due_at"))),
    )
    resolution = [
        {
            "resolved": summary["resolved"],
            "average_days": days(summary["average"]),
            "with_due": summary["with_due"],
            "within_due": summary["within_due"],
            "share_within_due": percent(summary["within_due"], summary["with_due"]),
        }
    ]
    return [
        Table(
            "per_week",
            _("Tickets opened and resolved per week"),
            [
                Column("week", _("Week of"), "week"),
                Column("opened", _("Opened"), "int"),
                Column("resolved", _("Resolved"), "int"),
            ],
            per_week,
            Chart("line", "week", ("opened", "resolved")),
        ),
        Table(
            "backlog",
            _("Open tickets by priority"),
            [Column("priority", _("Priority")), Column("count", _("Open tickets"), "int")],
            backlog,
            Chart("bar", "priority", ("count",)),
            note=_("The backlog is today's: tickets new, open or pending now."),
        ),
        Table(
            "resolution",
            _("Resolution time"),
            [
                Column("resolved", _("Resolved"), "int"),
                Column("average_days", _("Average resolution time (days)"), "days"),
                Column("with_due", _("With a due time"), "int"),
                Column("within_due", _("Resolved within due time"), "int"),
                Column("share_within_due", _("Share resolved within due time"), "percent"),
            ],
            resolution,
        ),
        *_sla_tables(scoped, start, end),
    ]


# -- SLA: first response and resolution times, median and 90th percentile, per assignee -----------------


class Percentile(Aggregate):
    """PostgreSQL's percentile_cont: the value below which `fraction` of the rows fall (NULLs ignored)."""

    function = "percentile_cont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression, fraction: float, **extra):
        super().__init__(expression, fraction=float(fraction), **extra)


def _hours(since: str, until: str) -> Func:
    return Func(F(until) - F(since), template="EXTRACT(EPOCH FROM %(expressions)s) / 3600.0", output_field=FloatField())


def _sla_aggregates(start, end) -> dict:
    responded = Q(first_response_at__gte=start, first_response_at__lt=end)
    resolved = Q(resolved_at__gte=start, resolved_at__lt=end)
    response, resolution = _hours("created_at", "first_response_at"), _hours("created_at", "resolved_at")
    return {
        "responded": Count("id", filter=responded),
        "response_median": Percentile(response, 0.5, filter=responded),
        "response_p90": Percentile(response, 0.9, filter=responded),
        "resolved": Count("id", filter=resolved),
        "resolution_median": Percentile(resolution, 0.5, filter=resolved),
        "resolution_p90": Percentile(resolution, 0.9, filter=resolved),
    }


def _rounded(row: dict) -> dict:
    for key in ("response_median", "response_p90", "resolution_median", "resolution_p90"):
        row[key] = round(row[key], 2) if row[key] is not None else None
    return row


def _sla_tables(scoped, start, end) -> list[Table]:
    """Tickets first answered, and tickets resolved, in the period: how long each took from its
    opening, in hours (median and 90th percentile), per assignee and for everyone."""
    in_period = scoped.filter(
        Q(first_response_at__gte=start, first_response_at__lt=end) | Q(resolved_at__gte=start, resolved_at__lt=end)
    )
    names = ("assignee", "assignee__username", "assignee__first_name", "assignee__last_name")
    rows = list(in_period.values(*names).annotate(**_sla_aggregates(start, end)).order_by("assignee__username"))
    for row in rows:
        full = f"{row['assignee__first_name']} {row['assignee__last_name']}".strip()
        row["name"] = full or row["assignee__username"] or str(_("Unassigned"))
        _rounded(row)
    everyone = _rounded(in_period.aggregate(**_sla_aggregates(start, end)))
    rows.append({**everyone, "name": str(_("Everyone"))})
    return [
        Table(
            "sla",
            _("First response and resolution time by assignee (hours)"),
            [
                Column("name", _("Assignee")),
                Column("responded", _("First responses"), "int"),
                Column("response_median", _("Median first response (h)"), "decimal"),
                Column("response_p90", _("90th percentile first response (h)"), "decimal"),
                Column("resolved", _("Resolved"), "int"),
                Column("resolution_median", _("Median resolution (h)"), "decimal"),
                Column("resolution_p90", _("90th percentile resolution (h)"), "decimal"),
            ],
            rows,
            Chart("bar", "name", ("response_median", "resolution_median")),
            note=_("Counted from the ticket's opening; first responses and resolutions that fall in the period."),
        )
    ]
