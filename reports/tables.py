"""What a report is made of: tables of SQL aggregates, each with the chart drawn from it.

A report hands back a few small tables (one row per stage, owner, month, week...):
the numbers are computed by the database; Python only labels and formats them.
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.contrib.humanize.templatetags.humanize import intcomma
from django.utils import formats
from django.utils.formats import number_format

from crm.web.templatetags.crm import money


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    # text, int, decimal, percent, days, money (needs the row's "currency"), month, week
    kind: str = "text"


@dataclass(frozen=True)
class Chart:
    kind: str  # bar, line or funnel
    x: str  # the column whose values name the categories
    series: tuple[str, ...]  # the columns drawn
    stacked: bool = False
    horizontal: bool = False


@dataclass
class Table:
    key: str
    title: str
    columns: list[Column]
    rows: list[dict]
    chart: Chart | None = None
    note: str = ""
    extra: dict = field(default_factory=dict)

    def column(self, key: str) -> Column:
        return next(column for column in self.columns if column.key == key)


def display(value, kind: str, row: dict):
    """A cell as the user reads it, in the active language (numbers grouped, dates localised)."""
    if value is None or value == "":
        return "—"
    if kind == "money":
        return money(value, row.get("currency", ""))
    if kind == "int":
        return intcomma(value)
    if kind == "decimal":
        return number_format(value, decimal_pos=2, force_grouping=True)
    if kind == "percent":
        return f"{number_format(value, decimal_pos=1, force_grouping=True)} %"
    if kind == "days":
        return number_format(value, decimal_pos=1, force_grouping=True)
    if kind == "month":
        return formats.date_format(value, "YEAR_MONTH_FORMAT")
    if kind == "week":
        return formats.date_format(value, "SHORT_DATE_FORMAT")
    return str(value)


def plain(value):
    """A cell for CSV and JSON: ISO dates, exact decimals, numbers as numbers."""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def number(value) -> float | None:
    if value is None or value == "":
        return None
    return float(value)


def chart_data(table: Table) -> dict | None:
    """The chart's categories (labelled in the user's language) and series, for static/crm/reports.js."""
    chart = table.chart
    if chart is None:
        return None
    x = next((column for column in table.columns if column.key == chart.x), Column(chart.x, ""))
    series = []
    for key in chart.series:
        column = table.column(key)
        series.append(
            {"name": str(column.label), "kind": column.kind, "data": [number(row[key]) for row in table.rows]}
        )
    return {
        "type": chart.kind,
        "stacked": chart.stacked,
        "horizontal": chart.horizontal,
        "title": str(table.title),
        "categories": [str(display(row[x.key], x.kind, row)) for row in table.rows],
        "series": series,
    }


def rendered_rows(table: Table) -> list[list]:
    return [[display(row[column.key], column.kind, row) for column in table.columns] for row in table.rows]


def as_json(table: Table) -> dict:
    return {
        "key": table.key,
        "title": str(table.title),
        "columns": [{"key": column.key, "label": str(column.label), "kind": column.kind} for column in table.columns],
        "rows": [{column.key: plain(row[column.key]) for column in table.columns} for row in table.rows],
    }
