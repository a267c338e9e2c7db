"""Tickets: the overdue job over the big tenant's tickets, and a ticket page with a long conversation.

The dataset's tickets are open or closed, with due times from five days ago to five days
ahead and no overdue notice yet, so about a third are overdue and waiting. Each timed run
of the job claims and notifies them in a transaction that is rolled back, so every run
finds the same rows; the EXPLAIN of the claim is in the note. The page: one ticket with
THREAD messages (inserted set-based), read the way gunicorn serves it.
"""

from __future__ import annotations

import statistics

from django.db import connection

from bench.pages import _get
from bench.timing import Result, rolled_back, timed
from crm.tenancy.context import activate
from customers.conversation_actions import notify_overdue_tickets
from customers.models import PENDING_OVERDUE_SQL

THREAD = 200
MARK = "bench-message"


def _plan(tenant) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "EXPLAIN UPDATE customers_ticket SET overdue_notified_at = now() "
            f"WHERE tenant_id = %s AND due_at <= now() AND {PENDING_OVERDUE_SQL}",
            [tenant.pk],
        )
        return " / ".join(row[0].strip() for row in cursor.fetchall())


def _waiting(tenant) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM customers_ticket WHERE tenant_id = %s AND due_at <= now() AND {PENDING_OVERDUE_SQL}",
            [tenant.pk],
        )
        return cursor.fetchone()[0]


def _tickets(tenant) -> tuple[int, int]:
    """Two alive tickets: the first gets the long thread, the second (no messages) is the baseline."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM customers_ticket WHERE tenant_id = %s AND deleted_at IS NULL ORDER BY id LIMIT 2",
            [tenant.pk],
        )
        first, second = (row[0] for row in cursor.fetchall())
    return first, second


def _add_thread(tenant, ticket_id, author_id) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM customers_ticketmessage WHERE tenant_id = %s AND ticket_id = %s",
            [tenant.pk, ticket_id],
        )
        if cursor.fetchone()[0] != THREAD:
            cursor.execute(
                "DELETE FROM customers_ticketmessage WHERE tenant_id = %s AND ticket_id = %s", [tenant.pk, ticket_id]
            )
            cursor.execute(
                "INSERT INTO customers_ticketmessage (tenant_id, ticket_id, kind, body, author_id, created_at, "
                "updated_at, version) SELECT %s, %s, (ARRAY['reply','note','customer'])[1 + n %% 3], %s || n, %s, "
                "now() - (n || ' minutes')::interval, now(), 1 FROM generate_series(1, %s) AS n",
                [tenant.pk, ticket_id, MARK, author_id, THREAD],
            )


def tickets(ctx) -> list[Result]:
    tenant = ctx.tenant
    waiting = _waiting(tenant)

    def run():
        with activate(tenant, process="bench:overdue"):
            notify_overdue_tickets(acting_user=None)

    samples = timed(rolled_back(run), runs=ctx.runs)
    plan = _plan(tenant)
    threaded, bare = _tickets(tenant)
    _add_thread(tenant, threaded, ctx.admin.pk)
    server = ctx.client_for()
    page = timed(_get(server, f"/tickets/{threaded}/"), runs=ctx.runs)
    baseline = timed(_get(server, f"/tickets/{bare}/"), runs=ctx.runs)
    return [
        Result(
            scenario=f"Overdue-ticket job: {waiting:,} overdue tickets (claim, history, notify)",
            median=statistics.median(samples),
            minimum=min(samples),
            maximum=max(samples),
            note=" / ".join(plan.split(" / ")[:3]),
            extra={"verdict": "ok (index)" if "ticket_overdue_pending" in plan else "MISSED (no index)"},
        ),
        Result(
            scenario=f"Ticket page with a {THREAD}-message conversation",
            median=statistics.median(page),
            minimum=min(page),
            maximum=max(page),
            baseline_median=statistics.median(baseline),
            note="baseline: the same page of a ticket without messages",
        ),
    ]
