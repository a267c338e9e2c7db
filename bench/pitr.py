"""Point-in-time recovery (issue #15): the RPO under a steady write load, what archiving costs a
single update, and a point-in-time restore of the largest company against the bare recovery.

Needs a server that archives WAL (`make bench` runs on the embedded one, which does); switches
archiving off and on for the update scenario with ALTER SYSTEM (a superuser, as there).
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.db import connection

from bench.timing import Result
from crm.tenancy.context import activate

RPO_SECONDS = {"small": 75, "medium": 150, "full": 300}  # long enough for segments to switch on archive_timeout
UPDATE_ROUNDS, UPDATES_PER_ROUND = 6, 40
# What archiving adds, switched off for the baseline: the archiver (archive_command) and the
# settings that go with it (no WAL recycling, WAL summaries for incremental base backups).
ARCHIVING_OFF = {"archive_command": "", "wal_recycle": "on", "summarize_wal": "off"}


def pitr(ctx) -> list[Result]:
    if not _archiving():
        return [Result("15. Point-in-time recovery", 0, 0, 0, note="skipped: the server does not archive WAL")]
    return [rpo(ctx), archiving_cost(ctx), restore_to_a_moment(ctx)]


def _archiving() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('archive_mode')")
        return cursor.fetchone()[0] in ("on", "always")


def _customer(ctx):
    from customers.models import Customer

    with activate(ctx.tenant, user=ctx.admin, process="bench"):
        return Customer.objects.filter(deleted_at__isnull=True).order_by("id").first()


def rpo(ctx) -> Result:
    """One update every 0.2 s for a while; every second, the age of the newest archived segment."""
    from customers import actions

    customer = _customer(ctx)
    seconds = RPO_SECONDS.get(getattr(ctx, "scale", "small"), 75)
    ages, n = [], 0
    deadline = time.monotonic() + seconds
    next_sample = time.monotonic()
    while time.monotonic() < deadline:
        n += 1
        with activate(ctx.tenant, user=ctx.admin, process="bench"):
            actions.update_customer(customer, name=f"Steady {n}", acting_user=ctx.admin)
        if time.monotonic() >= next_sample:
            with connection.cursor() as cursor:
                cursor.execute("SELECT extract(epoch FROM now() - last_archived_time) FROM pg_stat_archiver")
                age = cursor.fetchone()[0]
            if age is not None:
                ages.append(float(age))
            next_sample += 1
        time.sleep(0.2)
    worst = max(ages)
    return Result(
        "15a. RPO: age of the newest archived WAL segment under steady writes",
        statistics.median(ages),
        min(ages),
        worst,
        note=f"{n} updates in {seconds} s, {len(ages)} samples; worst {worst:.1f} s (target at most 60 s)",
        extra={"verdict": "ok" if worst <= 60 else "MISSED", "ages": ages},
    )


def _configure(values: dict[str, str]) -> None:
    with connection.cursor() as cursor:
        for name, value in values.items():
            cursor.execute(f"ALTER SYSTEM SET {name} = %s", [value])
        cursor.execute("SELECT pg_reload_conf()")
    time.sleep(0.5)  # the archiver and the WAL writer take the new settings


def _current(names) -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, setting FROM pg_settings WHERE name = ANY(%s)", [list(names)])
        return dict(cursor.fetchall())


def archiving_cost(ctx) -> Result:
    """Scenario 7's update with history and audit, with archiving on and off, in alternating rounds."""
    from customers import actions

    customer = _customer(ctx)
    names = iter(f"Archived {n}" for n in range(10**9))
    on = _current(ARCHIVING_OFF)

    def updates() -> list[float]:
        samples = []
        for _ in range(UPDATES_PER_ROUND):
            started = time.perf_counter()
            with activate(ctx.tenant, user=ctx.admin, process="bench"):
                actions.update_customer(customer, name=next(names), acting_user=ctx.admin)
            samples.append(time.perf_counter() - started)
        return samples

    ours, baseline = [], []
    try:
        updates()  # warm-up
        for round_number in range(UPDATE_ROUNDS):
            for archiving in (True, False) if round_number % 2 else (False, True):
                _configure(on if archiving else ARCHIVING_OFF)
                (ours if archiving else baseline).extend(updates())
    finally:
        _configure(on)
    return Result(
        "15b. Single update with WAL archiving on vs off",
        statistics.median(ours),
        min(ours),
        max(ours),
        baseline_median=statistics.median(baseline),
        target=1.1,
        note=f"{len(ours)} updates each side, in {UPDATE_ROUNDS} alternating rounds",
    )


def restore_to_a_moment(ctx) -> Result:
    """restore_backup --to-time T --tenant bench-big against recovering the same base backup to T."""
    from backups import basebackup, pitr
    from backups.models import BaseBackup
    from backups.restore import restore_tenant

    directory = Path(tempfile.mkdtemp(prefix="crm-bench-pitr-"))
    settings.BACKUP_DIR = directory
    try:
        with activate(None, process="bench"):
            base = basebackup.take_base_backup()
        if base.status != BaseBackup.Status.GOOD:
            raise RuntimeError(base.error)
        customer = _customer(ctx)
        from customers import actions

        with activate(ctx.tenant, user=ctx.admin, process="bench"):
            actions.update_customer(customer, name="As it was at the moment", acting_user=ctx.admin)
        with connection.cursor() as cursor:
            cursor.execute("SELECT clock_timestamp()")
            (moment,) = cursor.fetchone()
        with activate(ctx.tenant, user=ctx.admin, process="bench"):
            actions.update_customer(customer, name="After the moment", acting_user=ctx.admin)

        pitr._switch_segment()  # the moment's WAL in the archive for both sides, as recover() makes sure
        started = time.perf_counter()
        with pitr.scratch_server(base, moment):  # the bare recovery: copy, replay to T, promote
            pass
        bare = time.perf_counter() - started

        started = time.perf_counter()
        with activate(None, process="bench"):
            recovered = pitr.recover(moment)
        with activate(ctx.tenant, user=ctx.admin, process="bench", reason="bench"):
            run = restore_tenant(recovered, ctx.tenant, user=ctx.admin)
        ours = time.perf_counter() - started
        if run.status != run.Status.DONE:
            raise RuntimeError(run.error or run.report)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    return Result(
        "15c. Point-in-time restore of bench-big vs bare base backup restore + WAL replay",
        ours,
        ours,
        ours,
        baseline_median=bare,
        target=1.5,
        note=f"bare recovery {bare:.1f} s; ours = recovery + logical dump of the recovered database + company restore",
    )
