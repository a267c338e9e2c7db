"""The benchmark scenarios. Each returns Result rows; baselines run in the same process and data."""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
import tracemalloc
import uuid
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from audit.models import AuditEvent
from bench.attachments import attachments, attachments_backup
from bench.dedupe import dedupe
from bench.export import export
from bench.imports import imports
from bench.load import load
from bench.pages import (  # noqa: F401 (the page scenarios' names, as before the split)
    ALIVE_PAGE_SQL,
    PAGE,
    PAGE_RUNS,
    PAGE_WARMUP,
    Context,
    Server,
    _get,
    api_list,
    browser_list,
    token_lookup,
)
from bench.pitr import pitr
from bench.pool import pool_reclaim
from bench.reports import reports
from bench.restore import company_restore
from bench.rls import row_level_security
from bench.search import global_search
from bench.tasks import reminders
from bench.tickets import tickets
from bench.timing import Result, compare, raw, rolled_back, timed
from bench.webhooks import webhooks
from crm.tenancy.context import activate

# 3 -------------------------------------------------------------------------------------

BIN_SQL = (
    " UNION ALL ".join(
        f"(SELECT id, '{kind}' AS type, left({label}, 200) AS label, deleted_at, deleted_by_id, deletion_batch "
        f"FROM {table} WHERE tenant_id = %(t)s AND deleted_at IS NOT NULL ORDER BY deleted_at DESC, id DESC LIMIT 25)"
        for kind, table, label in [
            ("customer", "customers_customer", "name"),
            ("contact", "customers_contact", "name"),
            ("interaction", "customers_interaction", "summary"),
            ("opportunity", "sales_opportunity", "name"),
            ("ticket", "customers_ticket", "subject"),
        ]
    )
    + " ORDER BY deleted_at DESC, id DESC LIMIT 25"
)


def recycle_bin(ctx: Context) -> list[Result]:
    client = ctx.client_for()
    deleted = ctx.dataset.sizes["bench-big"] // 5 * 4
    return [
        compare(
            f"3. Recycle bin first page ({deleted:,} deleted rows)",
            _get(client, "/recycle-bin/"),
            raw(BIN_SQL, {"t": ctx.tenant.pk}),
            runs=ctx.runs,
            target=3,
        )
    ]


# 4 and 5 -------------------------------------------------------------------------------

CHILD_TABLES = ["customers_contact", "customers_interaction", "customers_ticket", "sales_opportunity"]


def _alive_ids(tenant, count) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM customers_customer WHERE tenant_id = %s AND deleted_at IS NULL ORDER BY id LIMIT %s",
            [tenant.pk, count],
        )
        return [row[0] for row in cursor.fetchall()]


def _raw_delete(ids, user_id, batch):
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE customers_customer SET deleted_at = now(), deleted_by_id = %s, deletion_batch = %s "
            "WHERE id = ANY(%s) AND deleted_at IS NULL",
            [user_id, batch, ids],
        )
        for table in CHILD_TABLES:
            cursor.execute(
                f"UPDATE {table} SET deleted_at = now(), deleted_by_id = %s, deletion_batch = %s "
                "WHERE customer_id = ANY(%s) AND deleted_at IS NULL",
                [user_id, batch, ids],
            )


def _raw_restore(batch):
    with connection.cursor() as cursor:
        for table in ["customers_customer", *CHILD_TABLES]:
            cursor.execute(
                f"UPDATE {table} SET deleted_at = NULL, deleted_by_id = NULL, deletion_batch = NULL "
                "WHERE deletion_batch = %s",
                [batch],
            )


def bulk_delete_and_restore(ctx: Context, count=10_000) -> list[Result]:
    from crm.recyclebin import actions as recyclebin
    from customers.models import Customer

    ids = _alive_ids(ctx.tenant, count)
    runs = max(3, ctx.runs // 2)

    def ours_delete():
        with activate(ctx.tenant, user=ctx.admin, process="bench"):
            recyclebin.delete(Customer.objects.filter(pk__in=ids), acting_user=ctx.admin)

    delete = compare(
        f"4. Bulk soft delete of {len(ids):,} customers with cascade (history + audit)",
        rolled_back(ours_delete),
        rolled_back(lambda: _raw_delete(ids, ctx.admin.pk, uuid.uuid4())),
        runs=runs,
        target=3,
    )

    def restore_timed(restore):
        samples = []

        def run():
            with transaction.atomic():
                with activate(ctx.tenant, user=ctx.admin, process="bench"):
                    batch = recyclebin.delete(Customer.objects.filter(pk__in=ids), acting_user=ctx.admin).id
                started = time.perf_counter()
                restore(batch)
                samples.append(time.perf_counter() - started)
                transaction.set_rollback(True)

        return run, samples

    def ours_restore(batch):
        with activate(ctx.tenant, user=ctx.admin, process="bench"):
            recyclebin.restore_batch(batch, acting_user=ctx.admin)

    ours_run, ours_samples = restore_timed(ours_restore)
    base_run, base_samples = restore_timed(_raw_restore)
    for _ in range(runs + 1):
        base_run()
        ours_run()
    ours_samples, base_samples = ours_samples[1:], base_samples[1:]  # the first pair is the warm-up
    restore = Result(
        scenario=f"5. Restore of that batch ({len(ids):,} customers with their children)",
        median=statistics.median(ours_samples),
        minimum=min(ours_samples),
        maximum=max(ours_samples),
        baseline_median=statistics.median(base_samples),
        target=3,
    )
    return [delete, restore]


# 6 -------------------------------------------------------------------------------------


def retention_purge(ctx: Context) -> list[Result]:
    from crm.recyclebin import actions as recyclebin

    sizes = [10_000, 100_000] if ctx.dataset.sizes["bench-big"] >= 500_000 else [1_000, 10_000]
    results, peaks = [], []
    for size in sizes:
        ids = _alive_ids(ctx.tenant, size)
        with transaction.atomic():
            _raw_delete(ids, ctx.admin.pk, uuid.uuid4())
            with connection.cursor() as cursor:
                # Only these rows are past a one-year retention period in this run.
                cursor.execute("UPDATE tenancy_tenant SET retention_days = 365 WHERE id = %s", [ctx.tenant.pk])
                old = timezone.now() - timedelta(days=400)
                for table in ["customers_customer", *CHILD_TABLES]:
                    column = "id" if table == "customers_customer" else "customer_id"
                    cursor.execute(f"UPDATE {table} SET deleted_at = %s WHERE {column} = ANY(%s)", [old, ids])
            ctx.tenant.refresh_from_db()
            tracemalloc.start()
            started = time.perf_counter()
            with activate(ctx.tenant, process="bench:retention"):
                counts = recyclebin.purge_expired(ctx.tenant)
            elapsed = time.perf_counter() - started
            _current, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            chunks = AuditEvent.objects.filter(
                tenant=ctx.tenant,
                action=AuditEvent.Action.RETENTION_PURGE,
                created_at__gte=timezone.now() - timedelta(hours=1),
            ).count()
            transaction.set_rollback(True)
        ctx.tenant.refresh_from_db()
        rows = sum(counts.values())
        peaks.append(peak)
        results.append(
            Result(
                scenario=f"6. Retention purge of {size:,} expired customers ({rows:,} rows)",
                median=elapsed,
                minimum=elapsed,
                maximum=elapsed,
                unit="s",
                note=f"{rows / elapsed:,.0f} rows/s, peak Python memory {peak / 1e6:.1f} MB",
                extra={"rows_per_second": rows / elapsed, "peak_bytes": peak},
            )
        )
    flat = peaks[-1] <= 1.5 * peaks[0]
    results[-1].extra["verdict"] = "ok (memory flat)" if flat else "MISSED (memory grows)"
    results.append(_hold_check_cost(ctx, purge_seconds=elapsed, chunks=chunks))
    return results


def _hold_check_cost(ctx: Context, *, purge_seconds: float, chunks: int) -> Result:
    """What the per-chunk legal-hold check adds to the largest purge above.

    Timing the purge with and without the check differs by less than the run-to-run noise
    (about 10%), so the check is timed on its own, in a transaction that writes as a chunk
    does (the commit's WAL flush is paid by the chunk anyway), and multiplied by the chunks.
    """
    from crm.records.softdelete import lock_tenant
    from crm.recyclebin.chunks import hold_is_on

    def chunk_transaction(check: bool):
        def run():
            with transaction.atomic():
                lock_tenant(ctx.tenant.pk)
                with connection.cursor() as cursor:
                    cursor.execute(
                        "UPDATE tenancy_tenant SET name = name WHERE id = %s", [ctx.dataset.tenants["bench-small-0"].pk]
                    )
                if check:
                    hold_is_on(ctx.tenant.pk)

        return run

    with_check, without = timed(chunk_transaction(True), runs=300), timed(chunk_transaction(False), runs=300)
    per_check = max(statistics.median(with_check) - statistics.median(without), 0.0)
    slowed = purge_seconds + chunks * per_check
    return Result(
        scenario=f"6. Retention purge with the legal-hold check per chunk ({chunks} chunks)",
        median=slowed,
        minimum=slowed,
        maximum=slowed,
        baseline_median=purge_seconds,
        target=1.05,
        note=f"{per_check * 1e3:.2f} ms per check",
    )


# 7 -------------------------------------------------------------------------------------


def single_update(ctx: Context) -> list[Result]:
    """The same validated single-record update with history and audit event, and without them."""
    from customers import actions
    from customers.models import Customer

    with activate(ctx.tenant, user=ctx.admin, process="bench"):
        customer = Customer.objects.filter(deleted_at__isnull=True).order_by("id").first()
    names = iter(f"Renamed {n}" for n in range(10**9))

    def ours():
        with activate(ctx.tenant, user=ctx.admin, process="bench"):
            actions.update_customer(customer, name=next(names), acting_user=ctx.admin)

    def plain():
        # What the action does minus history and audit: read, validate, save the field.
        with activate(ctx.tenant, user=ctx.admin, process="bench"), transaction.atomic():
            Customer.all_objects.filter(pk=customer.pk).values("name").first()
            customer.name = next(names)
            customer.full_clean()
            customer.skip_history_when_saving = True
            try:
                customer.save(update_fields=["name", "updated_at"])
            finally:
                del customer.skip_history_when_saving

    return [
        compare("7. Single update with history + audit vs without", ours, plain, runs=max(ctx.runs, 30), target=1.5)
    ]


# 8 -------------------------------------------------------------------------------------


def backup_and_drill(ctx: Context) -> list[Result]:
    from backups import postgres
    from backups.drills import drill
    from backups.dump import take_backup

    directory = Path(tempfile.mkdtemp(prefix="crm-bench-backups-"))
    settings.BACKUP_DIR = directory
    args, env = postgres.connection_args()
    bare_file = directory / "bare.dump"
    backups = []

    def ours_backup():
        backup = take_backup()
        if backup.status != "good":
            raise RuntimeError(backup.error)
        backups.append(backup)

    def bare_dump():
        postgres.run([postgres.binary("pg_dump"), "--format=custom", f"--file={bare_file}", *args], env=env)

    def bare_restore():
        name = f"crm_bench_bare_{uuid.uuid4().hex[:8]}"
        postgres.create_database(name)
        try:
            postgres.restore_into(bare_file, name)
        finally:
            postgres.drop_database(name)

    # Even: each side first equally often. At most 8 pairs: a pair of drills takes a minute.
    runs = min(8, max(2, ctx.runs + ctx.runs % 2))
    pairs = {"runs": runs, "warmup": 0, "alternate": True}
    backup = compare("8a. Backup task vs bare pg_dump", ours_backup, bare_dump, target=1.05, **pairs)
    backup.note = f"dump size {backups[-1].size / 1e6:,.0f} MB; {backup.note}"
    restore = compare(
        "8b. Restore drill vs bare pg_restore", lambda: drill(backups[-1]), bare_restore, target=1.2, **pairs
    )
    shutil.rmtree(directory, ignore_errors=True)
    return [backup, restore]


def backup_encryption(ctx: Context) -> list[Result]:
    """A backup encrypted at rest (BACKUP_ENCRYPTION_KEY) against the same backup stored plain."""
    import base64
    import os

    from backups.dump import take_backup

    directory = Path(tempfile.mkdtemp(prefix="crm-bench-encryption-"))
    settings.BACKUP_DIR = directory
    sizes = []

    def backup(key: str):
        def run():
            settings.BACKUP_ENCRYPTION_KEY = key
            taken = take_backup()
            if taken.status != "good":
                raise RuntimeError(taken.error)
            sizes.append(taken.size)
            for path in directory.glob("crm-*"):
                path.unlink()

        return run

    key = base64.urlsafe_b64encode(os.urandom(32)).decode()
    runs = min(8, max(2, ctx.runs + ctx.runs % 2))
    try:
        result = compare(
            "8c. Encrypted backup vs plain backup",
            backup(key),
            backup(""),
            target=1.15,
            runs=runs,
            warmup=0,
            alternate=True,
        )
    finally:
        settings.BACKUP_ENCRYPTION_KEY = ""
        shutil.rmtree(directory, ignore_errors=True)
    result.note = f"dump size {max(sizes) / 1e6:,.0f} MB; {result.note}"
    return [result]


# 10 ------------------------------------------------------------------------------------


def growth(ctx: Context) -> list[Result]:
    results = []
    medians = []
    for slug in ("bench-hundredth", "bench-tenth", "bench-big"):
        client = ctx.api(ctx.dataset.tenants[slug])
        samples = timed(_get(client, f"/api/v1/customers/?page_size={PAGE}"), runs=ctx.runs)
        medians.append(statistics.median(samples))
        results.append(
            Result(
                scenario=f"10. API list p50 at {ctx.dataset.sizes[slug]:,} customers",
                median=statistics.median(samples),
                minimum=min(samples),
                maximum=max(samples),
            )
        )
    flat = medians[-1] <= 2 * medians[0]
    results[-1].extra["verdict"] = "ok (flat)" if flat else "MISSED (grows)"
    return results


SCENARIOS = {
    "api": api_list,
    "browser": browser_list,
    "bin": recycle_bin,
    "delete": bulk_delete_and_restore,
    "retention": retention_purge,
    "update": single_update,
    "backup": backup_and_drill,
    "encryption": backup_encryption,
    "load": load,
    "growth": growth,
    "identity": token_lookup,
    "restore": company_restore,
    "reminders": reminders,
    "search": global_search,  # bench/search.py
    "export": export,
    "imports": imports,
    "reports": reports,
    "attachments": attachments,
    "attachments_backup": attachments_backup,
    "rls": row_level_security,
    "pool": pool_reclaim,
    "webhooks": webhooks,
    "pitr": pitr,
    "tickets": tickets,
    "dedupe": dedupe,  # the duplicate check at entry (issue #18)
}
