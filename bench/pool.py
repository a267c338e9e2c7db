"""The public pool's reclaim job over every customer of the big tenant: set-based, timed with its peak memory.

Each run, in a transaction that is rolled back (so every run sees the same rows):
the pool is switched on (return after 30 days, warn 3 days before) and the job runs
"31 days from now", when every customer of the dataset is older than 30 days. Set up
untimed, in one INSERT ... SELECT each (customers picked by a hash of their id): 98% of the owned customers have an interaction
by their owner 1 day before that moment (active: left alone), 1% were warned 11 days
before it (due: reclaimed), and 1% have neither (idle: warned now). The timed part is
one call of pool.reclaim.reclaim_idle: the UPDATE ... FROM over all the tenant's
customers, the bulk history rows, the audit event, the warnings and their notifications.
"""

from __future__ import annotations

import statistics
import time
import tracemalloc
from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone

from bench.timing import Result
from crm.tenancy.context import activate
from crm.tenancy.models import Tenant
from pool.listing import pool_customers
from pool.reclaim import reclaim_idle

AHEAD = timedelta(days=31)


def _set_up(tenant_id: int, moment) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE tenancy_tenant SET pool_enabled = true, pool_reclaim_days = 30, pool_warn_days = 3 WHERE id = %s",
            [tenant_id],
        )
        cursor.execute(
            """
            INSERT INTO customers_interaction (tenant_id, customer_id, kind, summary, occurred_at, author_id,
                created_at, updated_at, version)
            SELECT c.tenant_id, c.id, 'call', 'bench-pool', %(active)s, c.owner_id, now(), now(), 1
            FROM customers_customer c
            WHERE c.tenant_id = %(t)s AND c.deleted_at IS NULL AND c.owner_id IS NOT NULL AND abs(hashtext(c.id::text)) %% 100 >= 2
            """,
            {"t": tenant_id, "active": moment - timedelta(days=1)},
        )
        cursor.execute(
            """
            INSERT INTO pool_poolwarning (tenant_id, customer_id, user_id, warned_at)
            SELECT c.tenant_id, c.id, c.owner_id, %(warned)s FROM customers_customer c
            WHERE c.tenant_id = %(t)s AND c.deleted_at IS NULL AND c.owner_id IS NOT NULL AND abs(hashtext(c.id::text)) %% 100 = 0
            """,
            {"t": tenant_id, "warned": moment - timedelta(days=11)},
        )
        cursor.execute("ANALYZE customers_interaction")
        cursor.execute("ANALYZE pool_poolwarning")


def pool_reclaim(ctx) -> list[Result]:
    tenant = ctx.tenant
    customers = ctx.dataset.sizes["bench-big"]
    samples, peaks, outcome = [], [], None
    for _ in range(max(1, ctx.runs)):
        with transaction.atomic():
            moment = timezone.now() + AHEAD
            _set_up(tenant.pk, moment)
            fresh = Tenant.objects.get(pk=tenant.pk)
            tracemalloc.start()
            started = time.perf_counter()
            with activate(fresh, process="bench:pool_reclaim", reason="reclaimed"):
                outcome = reclaim_idle(acting_user=None, now=moment)
            samples.append(time.perf_counter() - started)
            peaks.append(tracemalloc.get_traced_memory()[1])
            tracemalloc.stop()
            transaction.set_rollback(True)
    assert outcome.reclaimed and outcome.warned, outcome
    median = statistics.median(samples)
    return [
        _pool_page(ctx),
        Result(
            scenario=(
                f"Pool reclaim job over {customers:,} customers "
                f"({outcome.reclaimed:,} reclaimed, {outcome.warned:,} owners warned)"
            ),
            median=median,
            minimum=min(samples),
            maximum=max(samples),
            note=f"{customers / median:,.0f} customers/s, peak Python memory {max(peaks) / 1e6:.1f} MB",
            extra={"peak_bytes": max(peaks), "reclaimed": outcome.reclaimed, "warned": outcome.warned},
        ),
    ]


def _pool_page(ctx) -> Result:
    """The pool's first page (50 rows and the count) with 1% of the tenant's customers in the pool."""
    tenant = ctx.tenant
    samples, plan = [], ""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("UPDATE tenancy_tenant SET pool_enabled = true WHERE id = %s", [tenant.pk])
            cursor.execute(
                "UPDATE customers_customer SET owner_id = NULL WHERE tenant_id = %s AND abs(hashtext(id::text)) %% 100 = 7",
                [tenant.pk],
            )
            cursor.execute("ANALYZE customers_customer")
        with activate(Tenant.objects.get(pk=tenant.pk), process="bench:pool_page"):
            rows = pool_customers()
            for _ in range(max(1, ctx.runs) + 1):
                started = time.perf_counter()
                page, count = list(rows[:50]), rows.count()
                samples.append(time.perf_counter() - started)
            plan = rows[:50].explain()
        transaction.set_rollback(True)
    samples = samples[1:]
    index = "customer_pool" in plan
    return Result(
        scenario=f"Pool page: first 50 of {count:,} pool customers (and the count)",
        median=statistics.median(samples),
        minimum=min(samples),
        maximum=max(samples),
        unit="s",
        note=next((line.strip()[:120] for line in plan.splitlines() if "Index" in line), plan[:120]),
        extra={"verdict": "ok (index)" if index else "MISSED (no index)", "rows": len(page)},
    )
