"""The pipeline's reports: funnel, win rate (deal size, sales cycle), lost reasons, forecast.

The funnel reads the opportunities' history (django-simple-history): every stage a deal
was in is a history row with its date, so "reached proposal in March" needs no stage
timestamps, covers deals that moved back, and works on data from before this report.
A deal reaching a stage counts for that stage and every earlier one (it skipped none
of them in the funnel's sense); "lost" is an exit, not a step.
"""

from decimal import Decimal

from django.db.models import Avg, Case, Count, F, IntegerField, Max, Q, Sum, Value, When
from django.db.models.functions import TruncMonth
from django.utils import formats
from django.utils.translation import gettext_lazy as _

from crm.tenancy.context import current_tenant
from reports.filters import Filters
from reports.queries.common import bounds, day, days, months, percent
from reports.tables import Chart, Column, Table
from sales.models import Opportunity

CENTS = Decimal("0.01")
PROGRESSION = ("lead", "qualified", "proposal", "negotiation", "won")
OTHER_REASON = _("Other (free text)")


def deals(user, filters: Filters):
    """The opportunities the user may see (a rep: their book), narrowed by owner and currency."""
    queryset = Opportunity.objects.for_user(user)
    if filters.owner is not None:
        queryset = queryset.filter(owner=filters.owner)
    if filters.currency:
        queryset = queryset.filter(currency=filters.currency)
    return queryset


def funnel(user, filters: Filters) -> list[Table]:
    start, end = bounds(filters)
    history = Opportunity.history.model.objects.filter(
        tenant_id=current_tenant().pk,
        id__in=deals(user, filters).values("pk"),
        history_date__gte=start,
        history_date__lt=end,
    )
    rank = Case(
        *(When(stage=stage, then=Value(index)) for index, stage in enumerate(PROGRESSION)),
        default=Value(-1),
        output_field=IntegerField(),
    )
    furthest = history.values("id").annotate(top=Max(rank)).order_by()
    reached = furthest.aggregate(
        **{stage: Count("id", filter=Q(top__gte=index)) for index, stage in enumerate(PROGRESSION)}
    )
    labels = dict(Opportunity.Stage.choices)
    rows, previous, first = [], None, reached[PROGRESSION[0]]
    for stage in PROGRESSION:
        count = reached[stage]
        rows.append(
            {
                "stage": labels[stage],
                "reached": count,
                "from_previous": percent(count, previous) if previous is not None else None,
                "from_first": percent(count, first),
            }
        )
        previous = count
    columns = [
        Column("stage", _("Stage")),
        Column("reached", _("Opportunities reaching it"), "int"),
        Column("from_previous", _("Conversion from the stage before"), "percent"),
        Column("from_first", _("Conversion from lead"), "percent"),
    ]
    return [Table("funnel", _("Funnel"), columns, rows, Chart("funnel", "stage", ("reached",)))]


def _rates(row: dict) -> dict:
    row["closed"] = row["won"] + row["lost"]
    row["win_rate"] = percent(row["won"], row["closed"])
    return row


def win_rate(user, filters: Filters) -> list[Table]:
    start, end = bounds(filters)
    closed = deals(user, filters).filter(stage__in=Opportunity.CLOSED_STAGES, closed_at__gte=start, closed_at__lt=end)
    counts = {"won": Count("id", filter=Q(stage="won")), "lost": Count("id", filter=Q(stage="lost"))}

    names = ("owner", "owner__username", "owner__first_name", "owner__last_name")
    by_owner = list(closed.values(*names).annotate(**counts).order_by("-won", "owner"))
    for row in by_owner:
        full = f"{row['owner__first_name']} {row['owner__last_name']}".strip()
        row["name"] = full or row["owner__username"] or str(_("No owner"))
        _rates(row)

    per_month = {
        day(row["month"]): row
        for row in closed.annotate(month=TruncMonth("closed_at")).values("month").annotate(**counts).order_by()
    }
    by_month = [
        _rates({"month": month, **{k: per_month.get(month, {}).get(k, 0) for k in ("won", "lost")}})
        for month in months(filters)
    ]

    by_currency = list(
        closed.values("currency")
        .annotate(
            won=Count("id", filter=Q(stage="won")),
            won_amount=Sum("amount", filter=Q(stage="won")),
            average=Avg("amount", filter=Q(stage="won")),
            cycle=Avg(F("closed_at") - F("created_at")),
            won_cycle=Avg(F("closed_at") - F("created_at"), filter=Q(stage="won")),
        )
        .order_by("currency")
    )
    for row in by_currency:
        row["cycle"], row["won_cycle"] = days(row["cycle"]), days(row["won_cycle"])

    rate_columns = [
        Column("won", _("Won"), "int"),
        Column("lost", _("Lost"), "int"),
        Column("win_rate", _("Win rate"), "percent"),
    ]
    return [
        Table(
            "by_owner",
            _("Win rate by owner"),
            [Column("name", _("Owner")), *rate_columns],
            by_owner,
            Chart("bar", "name", ("won", "lost"), stacked=True),
        ),
        Table(
            "by_month",
            _("Win rate by month closed"),
            [Column("month", _("Month"), "month"), *rate_columns],
            by_month,
            Chart("line", "month", ("win_rate",)),
        ),
        Table(
            "by_currency",
            _("Deal size and sales cycle"),
            [
                Column("currency", _("Currency")),
                Column("won", _("Won"), "int"),
                Column("won_amount", _("Won amount"), "money"),
                Column("average", _("Average deal size"), "money"),
                Column("cycle", _("Sales cycle, won or lost (days)"), "days"),
                Column("won_cycle", _("Sales cycle, won (days)"), "days"),
            ],
            by_currency,
            Chart("bar", "currency", ("cycle", "won_cycle")),
            note=_("The sales cycle runs from the day a deal was created to the day it was won or lost."),
        ),
    ]


def lost_reasons(user, filters: Filters) -> list[Table]:
    start, end = bounds(filters)
    lost = deals(user, filters).filter(stage=Opportunity.Stage.LOST, closed_at__gte=start, closed_at__lt=end)
    rows = list(lost.values("lost_reason_choice").annotate(count=Count("id")).order_by("-count", "lost_reason_choice"))
    total = sum(row["count"] for row in rows)
    for row in rows:
        row["reason"] = row["lost_reason_choice"] or str(OTHER_REASON)
        row["share"] = percent(row["count"], total)
    columns = [
        Column("reason", _("Reason")),
        Column("count", _("Deals lost"), "int"),
        Column("share", _("Share"), "percent"),
    ]
    return [
        Table("lost_reasons", _("Lost reasons"), columns, rows, Chart("bar", "reason", ("count",), horizontal=True))
    ]


def forecast(user, filters: Filters) -> list[Table]:
    """Open deals by expected close month, weighted by probability, per currency, beside what was won."""
    start, end = bounds(filters)
    scoped = deals(user, filters)
    open_rows = (
        scoped.filter(
            stage__in=Opportunity.OPEN_STAGES,
            expected_close_date__gte=filters.start,
            expected_close_date__lte=filters.end,
        )
        .annotate(month=TruncMonth("expected_close_date"))
        .values("month", "currency")
        .annotate(
            count=Count("id"),
            pipeline=Sum("amount"),
            weighted=Sum(F("amount") * F("probability") / Value(100)),
        )
        .order_by()
    )
    won_rows = (
        scoped.filter(stage=Opportunity.Stage.WON, closed_at__gte=start, closed_at__lt=end)
        .annotate(month=TruncMonth("closed_at"))
        .values("month", "currency")
        .annotate(won=Sum("amount"))
        .order_by()
    )
    merged: dict = {}
    for row in open_rows:
        merged[(day(row["month"]), row["currency"])] = {**row, "month": day(row["month"]), "won": None}
    for row in won_rows:
        key = (day(row["month"]), row["currency"])
        entry = merged.setdefault(
            key, {"month": key[0], "currency": key[1], "count": 0, "pipeline": None, "weighted": None}
        )
        entry["won"] = row["won"]
    rows = [merged[key] for key in sorted(merged)]
    for row in rows:
        if row["weighted"] is not None:
            row["weighted"] = row["weighted"].quantize(CENTS)
        # The chart's category: a month of one currency (amounts are never added across currencies).
        row["bucket"] = f"{formats.date_format(row['month'], 'YEAR_MONTH_FORMAT')} {row['currency']}"
    columns = [
        Column("month", _("Month"), "month"),
        Column("currency", _("Currency")),
        Column("count", _("Open deals"), "int"),
        Column("pipeline", _("Open pipeline"), "money"),
        Column("weighted", _("Weighted by probability"), "money"),
        Column("won", _("Won"), "money"),
    ]
    return [
        Table(
            "forecast",
            _("Forecast"),
            columns,
            rows,
            Chart("bar", "bucket", ("pipeline", "weighted", "won")),
            note=_(
                "Open deals by expected close month; won deals by the month they were won. Amounts are never added across currencies."
            ),
        )
    ]
