"""The reminder job over 100,000 open tasks: it finds the due ones through its partial index.

Tasks are inserted set-based (one INSERT ... SELECT) in the big tenant: 100,000 open,
with due times spread over the next 100 days, of which DUE are already due. Each
timed run claims and notifies the due ones in a transaction that is rolled back,
so every run finds the same rows. The EXPLAIN of the claim is in the note.
"""

from __future__ import annotations

import statistics

from django.db import connection

from activities.actions import send_reminders
from activities.models import PENDING_DUE_SQL
from bench.timing import Result, rolled_back, timed
from crm.tenancy.context import activate

OPEN_TASKS = 100_000
DUE = 200
MARK = "bench-task"


def _ensure_tasks(tenant, assignee_id) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM activities_task WHERE tenant_id = %s AND title LIKE %s", [tenant.pk, MARK + "%"]
        )
        if cursor.fetchone()[0] == OPEN_TASKS:
            return
        cursor.execute("DELETE FROM activities_task WHERE tenant_id = %s AND title LIKE %s", [tenant.pk, MARK + "%"])
        # Task n is due n * 86 seconds from now, less DUE of them: the first DUE are already due.
        cursor.execute(
            "INSERT INTO activities_task (tenant_id, title, notes, priority, done, assignee_id, due_at, "
            "created_at, updated_at) "
            "SELECT %s, %s || n, '', 'normal', false, %s, now() + (n - %s) * interval '86 seconds', now(), now() "
            "FROM generate_series(1, %s) AS n",
            [tenant.pk, MARK, assignee_id, DUE, OPEN_TASKS],
        )
        cursor.execute("ANALYZE activities_task")


def _plan(tenant) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "EXPLAIN UPDATE activities_task SET due_notified_at = now() "
            f"WHERE tenant_id = %s AND due_at <= now() AND {PENDING_DUE_SQL}",
            [tenant.pk],
        )
        return " / ".join(row[0].strip() for row in cursor.fetchall()[:2])


def reminders(ctx) -> list[Result]:
    tenant = ctx.tenant
    _ensure_tasks(tenant, ctx.admin.pk)

    def run():
        with activate(tenant, process="bench:reminders"):
            sent = send_reminders(acting_user=None)
        assert sent >= DUE - 1, sent

    samples = timed(rolled_back(run), runs=ctx.runs)
    plan = _plan(tenant)
    return [
        Result(
            scenario=f"Reminder job: {DUE} due among {OPEN_TASKS:,} open tasks (claim, history, notify)",
            median=statistics.median(samples),
            minimum=min(samples),
            maximum=max(samples),
            note=plan,
            extra={"verdict": "ok (index)" if "task_due_pending" in plan else "MISSED (no index)"},
        )
    ]
