"""The benchmark dataset, generated inside PostgreSQL with INSERT ... SELECT generate_series.

Ten tenants: the largest with `big` customers, two more at a tenth and a
hundredth of that (for the growth scenario), the rest small. Each customer
has one contact, one opportunity and one ticket; 20% of the customers are in
the recycle bin with their children, in batches of 100, like real deletes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import connection

from crm.tenancy.actions import add_member
from crm.tenancy.models import Tenant

SCALES = {"small": 10_000, "medium": 100_000, "full": 1_000_000}
SMALL_TENANT = 1_000
PASSWORD = "bench-password-2026"


@dataclass
class Dataset:
    tenants: dict[str, Tenant]
    sizes: dict[str, int]
    admin_username: str


def tenant_sizes(big: int) -> dict[str, int]:
    sizes = {"bench-big": big, "bench-tenth": big // 10, "bench-hundredth": big // 100}
    sizes.update({f"bench-small-{n}": SMALL_TENANT for n in range(7)})
    return sizes


def ensure(scale: str, log=print) -> Dataset:
    sizes = tenant_sizes(SCALES[scale])
    tenants = {}
    for slug, size in sizes.items():
        tenant, _created = Tenant.objects.get_or_create(slug=slug, defaults={"name": slug})
        tenants[slug] = tenant
        admin = add_member(tenant, "bench-admin", role="admin", password=PASSWORD, acting_user=None).user
        reps = [
            add_member(tenant, f"bench-rep{n}", role="rep", password=PASSWORD, acting_user=None).user for n in range(5)
        ]
        if _customer_count(tenant) != size:
            started = time.monotonic()
            _clear(tenant)
            _generate(tenant, size, owners=[admin.pk, *(rep.pk for rep in reps)])
            log(f"  generated {slug}: {size:,} customers in {time.monotonic() - started:.1f}s")
    with connection.cursor() as cursor:
        # What autovacuum keeps up in production (a server may run with it off, as dev servers
        # do): fresh statistics, and visibility maps that let counts be index-only scans.
        cursor.execute("VACUUM (ANALYZE)")
    get_user_model().objects.filter(username="bench-admin").update(is_staff=True)
    return Dataset(tenants=tenants, sizes=sizes, admin_username="bench-admin")


def _customer_count(tenant) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM customers_customer WHERE tenant_id = %s", [tenant.pk])
        return cursor.fetchone()[0]


def _clear(tenant) -> None:
    with connection.cursor() as cursor:
        for table in (
            "customers_contact",
            "customers_interaction",
            "customers_ticket",
            "sales_opportunity",
            "customers_customershare",
            "customers_customer",
        ):
            cursor.execute(f"DELETE FROM {table} WHERE tenant_id = %s", [tenant.pk])


def _generate(tenant, size: int, owners: list[int]) -> None:
    t = tenant.pk
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO customers_customer (tenant_id, kind, name, email, phone, website, industry, address, tier,
                status, owner_id, tags, notes, created_at, updated_at, deleted_at, deleted_by_id, deletion_batch)
            SELECT %(t)s, CASE WHEN g %% 7 = 0 THEN 'person' ELSE 'company' END,
                   'Customer ' || lpad(g::text, 8, '0') || CASE WHEN g %% 3 = 0 THEN ' 有限公司' ELSE ' Ltd' END,
                   'c' || g || '@t' || %(t)s || '.example.com', '+86 21 ' || lpad((g %% 100000000)::text, 8, '0'),
                   '', (ARRAY['Software','Retail','Logistics','Healthcare'])[1 + g %% 4], '',
                   (ARRAY['A','B','C'])[1 + g %% 3], (ARRAY['lead','active','churned'])[1 + g %% 3],
                   (%(owners)s::bigint[])[1 + g %% %(n_owners)s], ARRAY['tag' || (g %% 20)], '',
                   now() - (g || ' seconds')::interval, now(),
                   CASE WHEN g %% 5 = 0 THEN now() - ((g %% 40) || ' days')::interval END,
                   CASE WHEN g %% 5 = 0 THEN %(admin)s END,
                   CASE WHEN g %% 5 = 0 THEN md5(%(t)s || '-' || (g / 500))::uuid END
            FROM generate_series(1, %(size)s) AS g
            """,
            {"t": t, "owners": owners, "n_owners": len(owners), "admin": owners[0], "size": size},
        )
        children = {
            "customers_contact": ("name, title, email, phone", "'Contact of ' || c.id, 'Manager', '', ''"),
            "sales_opportunity": (
                "name, amount, currency, stage, probability, expected_close_date, owner_id, closed_at, lost_reason, "
                "lost_reason_choice",
                "'Deal ' || c.id, (c.id %% 1000) * 100, 'CNY', "
                "(ARRAY['lead','qualified','proposal','negotiation','won','lost'])[1 + c.id %% 6], 10, "
                "current_date + (c.id %% 90)::int, c.owner_id, "
                "CASE WHEN c.id %% 6 IN (4, 5) THEN now() END, '', "
                "CASE WHEN c.id %% 6 = 5 THEN (ARRAY['Price','Timing','Competitor'])[1 + c.id %% 3] ELSE '' END",
            ),
            "customers_ticket": (
                "subject, description, status, priority, assignee_id, due_at, resolved_at",
                "'Ticket ' || c.id, '', (ARRAY['new','open','pending','resolved','closed'])[1 + c.id %% 5], "
                "'normal', c.owner_id, now() + ((c.id %% 10 - 5) || ' days')::interval, NULL",
            ),
        }
        for table, (columns, values) in children.items():
            cursor.execute(
                f"""
                INSERT INTO {table} (tenant_id, customer_id, {columns}, created_at, updated_at,
                    deleted_at, deleted_by_id, deletion_batch)
                SELECT c.tenant_id, c.id, {values}, now(), now(), c.deleted_at, c.deleted_by_id, c.deletion_batch
                FROM customers_customer c WHERE c.tenant_id = %(t)s
                """,
                {"t": t},
            )
