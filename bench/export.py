"""Export of a list against PostgreSQL's own `COPY ... TO` of the same rows (target: within 2x),
and the export's peak memory at two sizes (flat: the larger export may not need much more).

The export is the browser's `/customers/?export=csv` through the WSGI application, read to
the end; the baseline is `COPY (<the export's own SELECT>) TO STDOUT WITH CSV HEADER` into a
sink, the SQL taken from the same queryset, so both read exactly the same rows and columns.
Memory is traced (tracemalloc) in a separate run, since tracing slows Python down.
"""

from __future__ import annotations

import tracemalloc

from django.db import connection

from bench.pages import Context, _get
from bench.timing import Result, compare
from crm.exports.columns import record_columns
from crm.tenancy.context import activate
from customers.models import Customer

URL = "/customers/?export=csv"
SIZES = ("bench-tenth", "bench-big")


class _Sink:
    def write(self, data):
        return len(data)


def _copy(tenant):
    with activate(tenant, process="bench"):
        queryset = Customer.objects.order_by(*Customer._meta.ordering).values_list(*record_columns(Customer).lookups)
        sql, params = queryset.query.sql_with_params()
        rows = Customer.objects.count()
    with connection.cursor() as cursor:
        select = cursor.mogrify(sql, params).decode()

    def run():
        with connection.cursor() as cursor:
            cursor.cursor.copy_expert(f"COPY ({select}) TO STDOUT WITH (FORMAT csv, HEADER)", _Sink())

    return run, rows


def _peak_bytes(server) -> int:
    tracemalloc.start()
    try:
        server.get(URL)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def export(ctx: Context) -> list[Result]:
    results, peaks = [], {}
    for slug in SIZES:
        tenant = ctx.dataset.tenants[slug]
        server = ctx.client_for(tenant)
        baseline, rows = _copy(tenant)
        results.append(
            compare(
                f"Export {rows:,} customers as CSV (browser) vs COPY TO",
                _get(server, URL),
                baseline,
                runs=ctx.runs,
                target=2,
            )
        )
        results.append(
            compare(
                f"Export {rows:,} customers as XLSX vs COPY TO (CSV)",
                _get(server, URL.replace("csv", "xlsx")),
                baseline,
                runs=max(ctx.runs // 3, 1),
                target=None,
                note="XLSX is zipped XML: reported, no target; ",
            )
        )
        peaks[rows] = _peak_bytes(server)
    (small, small_peak), (big, big_peak) = sorted(peaks.items())
    flat = big_peak <= 2 * small_peak + 1_000_000
    results.append(
        Result(
            scenario=f"Export peak memory (tracemalloc) at {big:,} rows",
            median=big_peak / 1e6,
            minimum=big_peak / 1e6,
            maximum=big_peak / 1e6,
            unit="MB",
            note=f"{small_peak / 1e6:.2f} MB at {small:,} rows",
            extra={"verdict": "ok" if flat else "MISSED"},
        )
    )
    return results
