"""The cost of the row-level security wall (docs/rls.md): the API list page and the single
update, as the application's role behind the wall against the owner without it.

Same process, data and connection: one side is `SET ROLE <app role>` with the wall's execute
wrapper (the company carried to the database), the other `RESET ROLE` (the owner, which
bypasses RLS) with the wrapper taken off, i.e. the application as it was before the wall.
The sides run in alternating blocks, so load drifting on shared cores hits both.
"""

from __future__ import annotations

import statistics
import time

from django.conf import settings
from django.db import connection

from bench.pages import PAGE, Context, _get
from bench.timing import Result
from crm.tenancy import rls
from crm.tenancy.context import activate

BLOCKS = 6
CREATE_ROLE = """
DO $$ BEGIN
    CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$
"""


def every_statement(execute, sql, params, many, context):
    """The other design: the company set before every statement (what SET LOCAL per transaction
    costs when requests run in autocommit, where each statement is its own transaction)."""
    rls.apply(context["connection"], rls.wanted_value())
    return execute(sql, params, many, context)


def _wall(on: bool, wrapper=rls.wall_wrapper) -> None:
    role = connection.ops.quote_name(settings.DATABASE_APP_ROLE)
    with connection.cursor() as cursor:
        cursor.execute(f"SET ROLE {role}" if on else "RESET ROLE")
    wrappers = connection.execute_wrappers
    for installed in (rls.wall_wrapper, every_statement):
        if installed in wrappers:
            wrappers.remove(installed)
    if on:
        wrappers.append(wrapper)
    connection.tenant_wall = None  # set again before the next query


def _check(on: bool) -> None:
    with connection.cursor() as cursor:
        held = not rls.bypass_reasons(cursor)
    if held != on:
        raise RuntimeError("the connection changed role during a block (was it reopened?)")


def _wall_against_none(name: str, function, *, runs: int, target: float, wrapper=rls.wall_wrapper) -> Result:
    samples = {True: [], False: []}
    per_block = max(1, runs // BLOCKS)
    for block in range(BLOCKS * 2):
        on = bool(block % 2) ^ bool((block // 2) % 2)  # off, on, on, off, off, on, ...
        _wall(on, wrapper)
        function()  # warm-up after the switch
        for _ in range(per_block):
            started = time.perf_counter()
            function()
            samples[on].append(time.perf_counter() - started)
        _check(on)
    _wall(False)
    connection.execute_wrappers.append(rls.wall_wrapper)  # installed again, as on every connection
    ours, baseline = samples[True], samples[False]
    return Result(
        scenario=name,
        median=statistics.median(ours),
        minimum=min(ours),
        maximum=max(ours),
        baseline_median=statistics.median(baseline),
        target=target,
        note=f"baseline: the owner role, no wall, no setting carried; ours: {wrapper.__name__}",
    )


def row_level_security(ctx: Context) -> list[Result]:
    from customers import actions
    from customers.models import Customer

    with connection.cursor() as cursor:
        cursor.execute(CREATE_ROLE.format(role=connection.ops.quote_name(settings.DATABASE_APP_ROLE)))
        rls.grant_app_role(cursor, settings.DATABASE_APP_ROLE)
    client = ctx.api()
    with activate(ctx.tenant, user=ctx.admin, process="bench"):
        customer = Customer.objects.filter(deleted_at__isnull=True).order_by("id").first()
    names = iter(f"Renamed {n}" for n in range(10**9))

    def update():
        with activate(ctx.tenant, user=ctx.admin, process="bench"):
            actions.update_customer(customer, name=next(names), acting_user=ctx.admin)

    runs = max(ctx.runs, 30)
    page = _get(client, f"/api/v1/customers/?page_size={PAGE}")
    return [
        _wall_against_none("RLS: API list page, behind the wall vs without", page, runs=runs, target=1.1),
        _wall_against_none("RLS: single update, behind the wall vs without", update, runs=runs, target=1.1),
        _wall_against_none(
            "RLS (set per statement): API list page", page, runs=runs, target=None, wrapper=every_statement
        ),
        _wall_against_none(
            "RLS (set per statement): single update", update, runs=runs, target=None, wrapper=every_statement
        ),
    ]
