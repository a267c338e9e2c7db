"""12. Importing customers from a CSV (upload, preview, write) against COPY of the same rows.

Both sides write the same rows into customers_customer of a company of their own, in a
transaction that is rolled back, so every run starts alike. Ours also detects the encoding,
checks every cell, looks for duplicates (in the file and in the table), stores the plan of
each line and writes a history row per record and one audit event: target 5x.
Memory: tracemalloc's peak for a tenth of the rows and for all of them (flat = about equal,
apart from the file itself, which is held as uploaded).
"""

from __future__ import annotations

import csv
import io
import tracemalloc

from django.db import connection, transaction

from bench.timing import Result, compare
from crm.tenancy.context import activate
from crm.tenancy.models import Tenant

HEADERS = ["客户名称", "邮箱", "电话", "行业", "负责人"]


def rows_for(ctx) -> int:
    return 100_000 if ctx.dataset.sizes["bench-big"] >= 100_000 else 10_000


def make_csv(count: int, owner: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADERS)
    for n in range(count):
        writer.writerow([f"导入客户 {n}", f"import{n}@example.com", f"+86 138 {n:08d}", "制造", owner])
    return out.getvalue().encode("gb18030")


def _import(tenant, admin, content):
    from imports import actions

    with activate(tenant, user=admin, process="bench"), transaction.atomic():
        job = actions.upload(content, "bench.csv", "customers", acting_user=admin)
        job = actions.run(actions.preview(job, acting_user=admin), acting_user=admin)
        assert job.created == job.total, (job.created, job.total, job.errors)
        transaction.set_rollback(True)


def _copy(tenant, count):
    out = io.StringIO()
    for n in range(count):
        out.write(
            f"{tenant.pk}\tcompany\t导入客户 {n}\timport{n}@example.com\t+86 138 {n:08d}\t\t制造\t\tC\tlead\t{{}}\t\tnow\tnow\n"
        )
    with transaction.atomic():
        with connection.cursor() as cursor:
            out.seek(0)
            cursor.copy_expert(
                "COPY customers_customer (tenant_id, kind, name, email, phone, website, industry, address, tier, "
                "status, tags, notes, created_at, updated_at) FROM STDIN",
                out,
            )
        transaction.set_rollback(True)


def _peak(function) -> float:
    tracemalloc.start()
    try:
        function()
        return tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


def imports(ctx) -> list[Result]:
    from crm.tenancy.actions import add_member

    tenant, _created = Tenant.objects.get_or_create(slug="bench-import", defaults={"name": "Bench Import"})
    add_member(tenant, ctx.admin.username, role="admin", acting_user=None)
    count = rows_for(ctx)
    content = make_csv(count, ctx.admin.username)
    result = compare(
        f"12. Import {count:,} customer rows (GB18030 CSV) vs COPY",
        lambda: _import(tenant, ctx.admin, content),
        lambda: _copy(tenant, count),
        runs=min(ctx.runs, 3),
        warmup=0,
        alternate=True,
        target=5,
    )
    small = make_csv(count // 10, ctx.admin.username)
    tenth, full = _peak(lambda: _import(tenant, ctx.admin, small)), _peak(lambda: _import(tenant, ctx.admin, content))
    result.note = (
        f"peak memory {tenth:,.0f} MB for {count // 10:,} rows, {full:,.0f} MB for {count:,} "
        f"(file {len(content) / 1e6:,.1f} MB); {result.note}"
    )
    result.extra.update({"peak_mb_tenth": tenth, "peak_mb_full": full, "file_mb": len(content) / 1e6})
    return [result]
