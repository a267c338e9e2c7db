"""Global search on the big tenant: GET /api/v1/search/?q= (the whole request: token, tenant, one
query per type, JSON) against the raw SQL of the same queries, run through a cursor.

The baseline is the SQL the search itself sends (captured once, then replayed), so the ratio
is what Django, DRF and the restricting reads add around the database's work. Queries:
a rare name (one customer), a common Chinese word (a third of the customers), a phone's
digits, a two-character Chinese word (below a trigram: see docs/search.md) and an email.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

from django.db import connection
from django.test.utils import CaptureQueriesContext

from bench.pages import _get
from bench.timing import Result, compare
from crm.tenancy.context import activate
from search.engine import search

SEARCHED = re.compile(
    r'^SELECT "(customers_customer|customers_contact|sales_opportunity|customers_ticket|activities_task)"\."id" AS "pk"'
)
QUERIES = [
    ("rare name", "Customer 00004321"),
    ("common Chinese word", "有限公司"),
    ("phone digits", "21 0000 43"),
    ("two Chinese characters", "有限"),
    ("email", "c4321@t"),
]


def _search_sql(ctx, q: str) -> list[str]:
    """The statements the search sends for `q` as the admin (one per type), with their parameters."""
    with activate(ctx.tenant, user=ctx.admin, process="bench:search"), CaptureQueriesContext(connection) as captured:
        search(ctx.admin, q)
    # The captured SQL has its parameters inlined (psycopg2's own query text): replayed as it ran.
    # Only the searches: outside a request the membership is looked up again for each type.
    return [query["sql"] for query in captured.captured_queries if SEARCHED.search(query["sql"])]


def _replay(statements):
    def run():
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)
                cursor.fetchall()

    return run


def global_search(ctx) -> list[Result]:
    api = ctx.api()
    results = []
    for label, q in QUERIES:
        statements = _search_sql(ctx, q)
        result = compare(
            f"Global search, {label} ({ctx.dataset.sizes['bench-big']:,} customers)",
            _get(api, "/api/v1/search/?" + urlencode({"q": q})),
            _replay(statements),
            runs=ctx.runs,
            target=3,
        )
        result.note = f"q={q!r}; {len(statements)} queries"
        results.append(result)
    return results
