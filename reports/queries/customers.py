"""The customers' report: new per month, the book by status, tier and industry, churned per month.

"Churned in March" is read from the customers' history: a history row in March whose status
is churned while the row before it (LAG over the customer's versions) was not.
"""

from django.db import connection
from django.db.models import Count
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.tenancy.context import current_tenant
from customers.models import Customer
from reports.filters import Filters
from reports.queries.common import bounds, day, months
from reports.tables import Chart, Column, Table

MAX_INDUSTRIES = 20

CHURN_SQL = """
SELECT date_trunc('month', changed.history_date AT TIME ZONE %s)::date AS month, count(*) AS churned
FROM (
    SELECT h.id, h.history_date, h.status,
           lag(h.status) OVER (PARTITION BY h.id ORDER BY h.history_date, h.history_id) AS previous
    FROM {history} h
    WHERE h.tenant_id = %s AND h.id IN ({customers})
      -- only customers with a churned version in the period: their earlier versions feed LAG
      AND h.id IN (SELECT c.id FROM {history} c WHERE c.tenant_id = %s AND c.status = 'churned'
                   AND c.history_date >= %s AND c.history_date < %s)
) changed
WHERE changed.status = 'churned' AND changed.previous IS DISTINCT FROM 'churned'
  AND changed.history_date >= %s AND changed.history_date < %s
GROUP BY 1
"""


def customers_of(user, filters: Filters):
    queryset = Customer.objects.for_user(user)
    if filters.owner is not None:
        queryset = queryset.filter(owner=filters.owner)
    return queryset


def churned_per_month(scoped, filters: Filters) -> dict:
    start, end = bounds(filters)
    ids_sql, ids_params = scoped.values("pk").order_by().query.sql_with_params()
    sql = CHURN_SQL.format(history=connection.ops.quote_name(Customer.history.model._meta.db_table), customers=ids_sql)
    with connection.cursor() as cursor:
        tenant = current_tenant().pk
        zone = timezone.get_current_timezone_name()
        cursor.execute(sql, [zone, tenant, *ids_params, tenant, start, end, start, end])
        return dict(cursor.fetchall())


def grouped(scoped, field: str, labels: dict | None = None, limit: int | None = None) -> list[dict]:
    rows = scoped.values(field).annotate(count=Count("id")).order_by("-count", field)
    if limit:
        rows = rows[:limit]
    return [{"value": (labels or {}).get(row[field], row[field]) or "—", "count": row["count"]} for row in rows]


def customers(user, filters: Filters) -> list[Table]:
    start, end = bounds(filters)
    scoped = customers_of(user, filters)
    new = {
        day(row["month"]): row["count"]
        for row in scoped.filter(created_at__gte=start, created_at__lt=end)
        .annotate(month=TruncMonth("created_at"))
        .values("month")
        .annotate(count=Count("id"))
        .order_by()
    }
    churned = churned_per_month(scoped, filters)
    per_month = [{"month": m, "new": new.get(m, 0), "churned": churned.get(m, 0)} for m in months(filters)]
    count_column = Column("count", _("Customers"), "int")
    return [
        Table(
            "per_month",
            _("New and churned customers per month"),
            [
                Column("month", _("Month"), "month"),
                Column("new", _("New"), "int"),
                Column("churned", _("Churned"), "int"),
            ],
            per_month,
            Chart("bar", "month", ("new", "churned")),
        ),
        Table(
            "by_status",
            _("Customers by status"),
            [Column("value", _("Status")), count_column],
            grouped(scoped, "status", dict(Customer.Status.choices)),
            Chart("bar", "value", ("count",)),
            note=_("Today's customers (the period does not apply)."),
        ),
        Table(
            "by_tier",
            _("Customers by tier"),
            [Column("value", _("Tier")), count_column],
            grouped(scoped, "tier", dict(Customer.Tier.choices)),
            Chart("bar", "value", ("count",)),
        ),
        Table(
            "by_industry",
            _("Customers by industry"),
            [Column("value", _("Industry")), count_column],
            grouped(scoped, "industry", limit=MAX_INDUSTRIES),
            Chart("bar", "value", ("count",), horizontal=True),
            note=_("The twenty largest industries."),
        ),
    ]
