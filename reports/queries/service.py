"""Support's report: tickets opened and resolved per week, the backlog by priority, resolution times."""

from django.db.models import Avg, Count, F, Q
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
    ]
