"""The page scenarios (1, 2 and 11): list pages and the API token lookup, each against a raw query.

Pages are served the way gunicorn serves them (`Server`, the WSGI application),
so the time measured is the server's.
"""

from __future__ import annotations

import io
import statistics
import sys
import time

from django.contrib.auth import get_user_model
from django.core.wsgi import get_wsgi_application
from django.db import connection
from django.test import Client

from bench.timing import Result, compare, raw
from crm.tenancy.actions import api_token_for
from crm.tenancy.middleware import SESSION_TENANT_KEY

PAGE = 50
# Page scenarios take a few milliseconds a run: their medians need many more
# samples (and warm-up runs) than the seconds-long scenarios' --runs.
PAGE_RUNS = 300
PAGE_WARMUP = 30
LIST_COLUMNS = "c.id, c.kind, c.name, c.email, c.phone, c.tier, c.status, c.tags, c.created_at, u.username"
ALIVE_PAGE_SQL = (
    f"SELECT {LIST_COLUMNS} FROM customers_customer c LEFT JOIN auth_user u ON u.id = c.owner_id "
    "WHERE c.tenant_id = %s AND c.deleted_at IS NULL {extra} ORDER BY c.name, c.id LIMIT 50"
)


class Context:
    def __init__(self, dataset, runs: int):
        self.dataset = dataset
        self.runs = runs
        self.tenant = dataset.tenants["bench-big"]
        self.admin = get_user_model().objects.get(username=dataset.admin_username)
        self.token = api_token_for(self.tenant, self.admin.username, acting_user=None).key

    def client_for(self, tenant=None) -> Server:
        client = Client()
        client.force_login(self.admin)
        session = client.session
        session[SESSION_TENANT_KEY] = (tenant or self.tenant).pk
        session.save()
        return Server(HTTP_COOKIE=client.cookies.output(header="", sep=";").strip())

    def api(self, tenant=None) -> Server:
        token = api_token_for(tenant or self.tenant, self.admin.username, acting_user=None).key
        return Server(HTTP_AUTHORIZATION=f"Token {token}")


class Server:
    """Calls the WSGI application the way gunicorn does: the time measured is the server's.

    Django's test Client would add its own work (building the request, signals,
    wrapping the response) to every sample.
    """

    application = None

    def __init__(self, **headers):
        if Server.application is None:
            Server.application = get_wsgi_application()
        self.headers = headers

    def get(self, url: str) -> int:
        path, _, query = url.partition("?")
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": "127.0.0.1",
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(),
            "wsgi.errors": sys.stderr,
            **self.headers,
        }
        status = []
        response = self.application(environ, lambda line, headers, exc_info=None: status.append(line))
        try:
            for _chunk in response:
                pass
        finally:
            getattr(response, "close", lambda: None)()
        return int(status[0].split()[0])


def _get(server, url):
    def run():
        status = server.get(url)
        if status != 200:
            raise RuntimeError(f"{url} answered {status}")

    return run


# 1 and 2 -------------------------------------------------------------------------------


def _words_anywhere(*words):
    # The API's search: every word, case-insensitively, in the name, email or phone.
    return "".join(
        f" AND (UPPER(c.name) LIKE '%%{w}%%' OR UPPER(c.email) LIKE '%%{w}%%' OR UPPER(c.phone) LIKE '%%{w}%%')"
        for w in (word.upper() for word in words)
    )


LIST_VARIANTS = [
    ("default order", "", ""),
    ("with a filter", "status=active", "AND c.status = 'active'"),
    ("with a search", "search=Customer%2000001", _words_anywhere("Customer", "00001")),
]


def api_list(ctx: Context) -> list[Result]:
    client = ctx.api()
    results = []
    for label, query, sql in LIST_VARIANTS:
        url = f"/api/v1/customers/?page_size={PAGE}&{query}"
        baseline = raw(ALIVE_PAGE_SQL.format(extra=sql), [ctx.tenant.pk])
        results.append(
            compare(
                f"1. API list page ({label})",
                _get(client, url),
                baseline,
                runs=max(ctx.runs, PAGE_RUNS),
                warmup=PAGE_WARMUP,
                target=3,
            )
        )
    return results


def browser_list(ctx: Context) -> list[Result]:
    client = ctx.client_for()
    baseline = raw(ALIVE_PAGE_SQL.format(extra=""), [ctx.tenant.pk])
    return [
        compare(
            "2. Browser customer list render",
            _get(client, f"/customers/?page_size={PAGE}"),
            baseline,
            runs=max(ctx.runs, PAGE_RUNS),
            warmup=PAGE_WARMUP,
            target=3,
        )
    ]


# 11 ------------------------------------------------------------------------------------

PREPARED_MUST_SAVE = 0.0003  # seconds a request (issue #4)


def token_lookup(ctx: Context) -> list[Result]:
    """The API token lookup as a prepared statement against the same query sent plainly.

    It stays prepared only while that saves at least PREPARED_MUST_SAVE a request
    (crm.tenancy.authentication.PreparedIdentityQuery). Measured per query and per API
    list request, on one connection, in pairs run back to back (each pair in the other
    order than the last): the saving is the median of the pairs' differences, which
    load drifting over the run does not move as it moves two separate medians.
    """
    from crm.tenancy.authentication import identity_query, identity_sql

    key = ctx.token
    sql = identity_sql()

    def prepared():
        identity_query.fetchone(key)

    def plain():
        with connection.cursor() as cursor:
            cursor.execute(sql, [key])
            cursor.fetchone()

    client = ctx.api()
    url = f"/api/v1/customers/?page_size={PAGE}"

    def request(works):
        def run():
            identity_query.works = works
            _get(client, url)()

        return run

    try:
        per_query = paired("11a. API token lookup: prepared statement vs one plain query", prepared, plain, runs=20_000)
        per_request = paired(
            "11b. API list request: prepared token lookup vs plain",
            request(True),
            request(False),
            runs=max(ctx.runs, PAGE_RUNS) * 10,
        )
    finally:
        identity_query.works = True
    saved = per_request.extra["saved_seconds"]
    per_request.extra["verdict"] = "ok" if saved >= PREPARED_MUST_SAVE else "MISSED (use the plain query)"
    return [per_query, per_request]


def paired(name, ours, baseline, *, runs: int, warmup: int = 100) -> Result:
    for _ in range(warmup):
        ours()
        baseline()
    our_samples, base_samples, savings = [], [], []
    for round_number in range(runs):
        times = {}
        for function in (ours, baseline)[:: -1 if round_number % 2 else 1]:
            started = time.perf_counter()
            function()
            times[function] = time.perf_counter() - started
        our_samples.append(times[ours])
        base_samples.append(times[baseline])
        savings.append(times[baseline] - times[ours])
    saved = statistics.median(savings)
    return Result(
        scenario=name,
        median=statistics.median(our_samples),
        minimum=min(our_samples),
        maximum=max(our_samples),
        baseline_median=statistics.median(base_samples),
        note=f"saves {saved * 1000:.3f} ms (median of {runs:,} pairs; kept while at least "
        f"{PREPARED_MUST_SAVE * 1000:.1f} ms a request)",
        extra={"saved_seconds": saved},
    )
