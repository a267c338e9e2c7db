"""11. A company restore of the largest bench company against pg_restore of the same rows."""

from __future__ import annotations

import shutil
import tempfile
import time
import uuid
from pathlib import Path

from django.conf import settings
from django.db import connection

from bench.timing import Result, compare
from crm.tenancy.context import activate

CHANGED_SHARE = 100  # before each restore, one customer in this many is renamed (the restore puts them back)


def company_restore(ctx) -> list[Result]:
    """restore_tenant() of bench-big (safety backup, scratch restore, merge) against a bare pg_restore.

    The baseline is `pg_restore` of the same backup into a new, empty database: the rows
    a company restore brings back are most of those (bench-big is ~90% of the dataset),
    and pg_restore loading them, with their indexes, is what "restoring them" costs at the
    least. Ours also takes the safety backup (a pg_dump of everything) first, then merges
    row by row in sets: it is reported against the baseline, target 2x.
    """
    from backups import postgres
    from backups.dump import take_backup
    from backups.restore import restore_tenant

    directory = Path(tempfile.mkdtemp(prefix="crm-bench-restore-"))
    settings.BACKUP_DIR = directory
    tenant = ctx.tenant
    backup = take_backup()
    if backup.status != "good":
        raise RuntimeError(backup.error)

    def ours():
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE customers_customer SET name = name || ' (renamed)' WHERE tenant_id = %s AND id %% %s = 0",
                [tenant.pk, CHANGED_SHARE],
            )
        with activate(tenant, user=ctx.admin, process="bench", reason="restored from backup"):
            run = restore_tenant(backup, tenant, user=ctx.admin)
        if run.status != "done":
            raise RuntimeError(run.error)
        finished.append(run)

    def bare_restore():
        name = f"crm_bench_bare_{uuid.uuid4().hex[:8]}"
        postgres.create_database(name)
        try:
            postgres.restore_into(Path(backup.path), name)
        finally:
            postgres.drop_database(name)

    finished = []
    started = time.perf_counter()
    runs = min(4, max(2, ctx.runs + ctx.runs % 2))
    result = compare(
        f"11. Company restore of {ctx.dataset.sizes['bench-big']:,} customers vs bare pg_restore",
        ours,
        bare_restore,
        runs=runs,
        warmup=0,
        alternate=True,
        target=2,
    )
    written = finished[-1].report["written"]
    result.note = f"dump {backup.size / 1e6:,.0f} MB; {sum(written.values()):,} rows written per restore; {result.note}"
    result.extra["total_seconds"] = time.perf_counter() - started
    shutil.rmtree(directory, ignore_errors=True)
    return [result]
