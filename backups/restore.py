"""The three levels of restore (restore drills are in backups.drills).

1. whole database into a new database (never over the live one);
2. one tenant in place, in one transaction, after a fresh safety backup,
   touching no other tenant's rows; what the backup lacks goes to the recycle bin;
3. one customer with its children, from a backup into the live tenant,
   refusing (and writing nothing) on any conflict with live data.

Levels 2 and 3 bring back records and their history, never access (backups.inplace).
A failed restore ends its run with the reason and a "restore failed" audit event; a
finished one sends crm.records.signals.restored_from_backup once committed.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from functools import partial

import psycopg2
from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils import timezone

from audit.events import record as audit
from audit.models import AuditEvent
from backups import inplace, postgres, storage
from backups.dump import take_backup
from backups.models import Backup, RestoreRun
from backups.postgres import BackupError
from backups.restore_rows import restored_models, scratch_cursor
from crm.records.session_locks import try_lock, unlock
from crm.records.signals import restored_from_backup

log = logging.getLogger(__name__)


def good_backup(backup_id=None) -> Backup:
    backups = Backup.objects.filter(status=Backup.Status.GOOD)
    backup = backups.filter(pk=backup_id).first() if backup_id else backups.order_by("-started_at", "-id").first()
    if backup is None:
        raise BackupError(f"No good backup {backup_id}" if backup_id else "There is no good backup yet.")
    if not storage.present(backup):
        raise BackupError(f"The file of backup {backup.pk} is missing: {backup.path}")
    return backup


# -- level 1: whole database --------------------------------------------------------


def restore_database(backup: Backup, database: str, user=None, run: RestoreRun | None = None) -> RestoreRun:
    """Restore the whole backup into a new database. `run`: a queued RestoreRun to report on (else one is made)."""

    def check():
        if database == settings.DATABASES["default"]["NAME"]:
            raise BackupError("Refusing to restore over the live database; name a new database.")
        if postgres.database_exists(database):
            raise BackupError(f"Database {database} already exists; name a new one.")

    run, refused = _begin(run, check, backup, RestoreRun.Scope.DATABASE, target=database, user=user)
    if refused:
        return run
    try:
        _phase(run, "creating the database")
        postgres.create_database(database)
        _phase(run, "restoring into the new database")
        with storage.readable(backup) as dump:
            postgres.restore_into(dump, database)
    except RESTORE_ERRORS as error:
        return _end(run, RestoreRun.Status.FAILED, error=reason_of(error))
    return _end(run, RestoreRun.Status.DONE)


# -- level 2: one tenant ----------------------------------------------------------


def restore_tenant(backup: Backup, tenant, user=None, run: RestoreRun | None = None) -> RestoreRun:
    """Bring the company's records back to the backup's, in one transaction, after a safety backup.

    Records the backup lacks go to the recycle bin as one batch (nothing is deleted);
    access (members, tokens, grants, settings) is left as it is (backups.restore_rows).
    `run`: a queued RestoreRun to report on (else one is made).
    """
    run, refused = _begin(
        run,
        lambda: _check_same_schema(backup),
        backup,
        RestoreRun.Scope.TENANT,
        target=tenant.slug,
        user=user,
        tenant=tenant,
    )
    if refused:
        return run
    try:
        _phase(run, "safety backup")
        safety = take_backup(Backup.Kind.PRE_RESTORE, user=user)
        if safety.status != Backup.Status.GOOD:
            raise BackupError(f"The safety backup failed, nothing was restored: {safety.error}")
        run.safety_backup = safety
        _phase(run, "restoring into a scratch database")
        with (
            storage.readable(backup) as dump,
            postgres.scratch_database(dump, "crm_restore", tables=scratch_tables()) as scratch,
        ):
            _phase(run, "replacing the company's rows")
            with scratch_cursor(scratch) as cursor:
                report = inplace.replace_company(cursor, tenant, run, user)
    except RESTORE_ERRORS as error:
        return _end(run, RestoreRun.Status.FAILED, error=reason_of(error))
    return _done(run, {**report, "safety_backup": safety.pk}, customer_id=None)


def scratch_tables() -> list[str]:
    """What a company or customer restore reads from its scratch database: the restored tables."""
    return [model._meta.db_table for model in restored_models()]


def _check_same_schema(backup: Backup) -> None:
    if backup.manifest.get("migrations") != postgres.applied_migrations():
        raise BackupError(
            "This backup was taken with a different database schema (migrations differ); "
            "restore it into a new database instead."
        )


# -- level 3: one customer ---------------------------------------------------------


def restore_customer(backup: Backup, tenant, customer_id: int, user=None, run: RestoreRun | None = None) -> RestoreRun:
    """Bring back one customer with its children; any conflict with live data -> nothing written.

    `run`: a queued RestoreRun to report on (else one is made).
    """
    run, refused = _begin(
        run,
        lambda: _check_same_schema(backup),
        backup,
        RestoreRun.Scope.CUSTOMER,
        target=str(customer_id),
        user=user,
        tenant=tenant,
    )
    if refused:
        return run
    try:
        _phase(run, "restoring into a scratch database")
        with (
            storage.readable(backup) as dump,
            postgres.scratch_database(dump, "crm_restore", tables=scratch_tables()) as scratch,
            scratch_cursor(scratch) as cursor,
        ):
            _phase(run, "checking for conflicts")
            conflicts = inplace.customer_conflicts(cursor, backup, tenant, customer_id)
            if conflicts:
                return _end(run, RestoreRun.Status.REFUSED, report={"conflicts": conflicts})
            _phase(run, "copying the customer's rows")
            report = inplace.insert_customer(cursor, tenant, customer_id, user)
    except RESTORE_ERRORS as error:
        return _end(run, RestoreRun.Status.FAILED, error=reason_of(error))
    return _done(run, report, customer_id=customer_id)


# -- bookkeeping -------------------------------------------------------------------

RESTORE_EVENTS = {
    RestoreRun.Status.DONE: AuditEvent.Action.BACKUP_RESTORED,
    RestoreRun.Status.REFUSED: AuditEvent.Action.REFUSED,
    RestoreRun.Status.FAILED: AuditEvent.Action.RESTORE_FAILED,
}
# What ends a restore as failed, with its message as the reason (anything else is a bug: the task logs it).
RESTORE_ERRORS = (BackupError, DatabaseError, psycopg2.Error, OSError)


def reason_of(error: Exception) -> str:
    """The error's own words: PostgreSQL's message (its DETAIL too), never a bare class name."""
    text = str(error).strip() or type(error).__name__
    return text if isinstance(error, BackupError) else f"{type(error).__name__}: {text}"


def _done(run: RestoreRun, report: dict, *, customer_id) -> RestoreRun:
    """End a company or customer restore as done; once committed, tell the parts that re-apply themselves."""
    run = _end(run, RestoreRun.Status.DONE, report=report)
    transaction.on_commit(partial(_announce, run, customer_id))
    return run


def _announce(run: RestoreRun, customer_id) -> None:
    for receiver, outcome in restored_from_backup.send_robust(
        sender=RestoreRun, tenant=run.tenant, customer_id=customer_id, run=run
    ):
        if isinstance(outcome, Exception):
            log.error("after restore %s, %r failed: %s", run.pk, receiver, outcome, exc_info=outcome)


def _begin(run, check, backup, scope, **values) -> tuple[RestoreRun, bool]:
    """(run, refused). Without `run`: `check()` (its BackupError propagates), then a new run.

    With a queued `run` (made by actions.start_restore before the task): the same check, but a
    BackupError ends that run as failed, so it never stays "running".
    """
    if run is None:
        check()
        return _start(backup, scope, **values), False
    try:
        _phase(run, "starting")
        check()
    except BackupError as error:
        return _end(run, RestoreRun.Status.FAILED, error=str(error)), True
    return run, False


def _start(backup, scope, *, target, user=None, tenant=None) -> RestoreRun:
    mark_stale_restores()
    with transaction.atomic():  # the lock is held before any other session can see the row
        run = RestoreRun.objects.create(
            backup=backup,
            scope=scope,
            target=target,
            tenant=tenant,
            started_at=timezone.now(),
            phase="starting",
            created_by=user if getattr(user, "pk", None) else None,
        )
        hold(run.pk)
    return run


def _phase(run: RestoreRun, phase: str) -> None:
    RestoreRun.objects.filter(pk=run.pk).update(phase=phase)


def _end(run: RestoreRun, status: str, *, error: str = "", report: dict | None = None) -> RestoreRun:
    run.status, run.error, run.report = status, error, report or {}
    run.finished_at, run.phase = timezone.now(), ""
    run.save()
    audit(  # on the restore itself ("Restore #N: restore failed"), never read as the backup failing
        RESTORE_EVENTS[status],
        tenant=run.tenant,
        target=run,
        detail={"scope": run.scope, "status": status, "restore_id": run.pk, "backup": run.backup_id}
        | (
            {"error": error.splitlines()[0][:200]} if error else {}
        ),  # the first line: PostgreSQL's DETAIL may hold values
    )
    release(run.pk)
    _tell_who_started(run)
    return run


def _tell_who_started(run: RestoreRun) -> None:
    """A company or customer restore notifies the admin who started it (job_finished), however it ended."""
    from activities import notify

    if run.tenant_id and run.scope in (RestoreRun.Scope.TENANT, RestoreRun.Scope.CUSTOMER):
        # A restore to a moment has no backup until its recovery is done: the moment names it.
        when = run.backup.started_at if run.backup else run.moment
        label = f"{timezone.localtime(when):%Y-%m-%d %H:%M}"
        notify.job_finished(run.tenant, run.created_by_id, notify.JOB_RESTORE, run.pk, label)


# -- runs whose worker died ---------------------------------------------------------
#
# The session working on a restore holds a PostgreSQL advisory lock on the run's id
# until the run ends. A worker that dies takes its connection, and so the lock,
# with it: a "running" run nobody holds is a dead one.

RESTORE_LOCK = 0x52535452  # "RSTR"; the second key is the run's id
QUEUED = "queued"  # the phase of a run actions.start_restore made, before a worker took it
UNCLAIMED_FOR = timedelta(hours=12)  # a queued run no worker took by then never will
DEAD_WORKER = "The worker running this restore stopped before it finished."
NEVER_TAKEN = "No worker took this restore."

_held = threading.local()


def _held_ids() -> set:
    if not hasattr(_held, "ids"):
        _held.ids = set()
    return _held.ids


def hold(run_id: int) -> bool:
    """Take the run's lock for this session (False: another session works on it)."""
    taken = try_lock((RESTORE_LOCK, run_id))
    if taken:
        _held_ids().add(run_id)
    return taken


def release(run_id: int) -> None:
    if run_id in _held_ids():
        _held_ids().discard(run_id)
        unlock((RESTORE_LOCK, run_id))


def mark_stale_restores(runs=None) -> int:
    """End as failed the running restores (of `runs`, default all) whose worker is gone."""
    running = (RestoreRun.objects.all() if runs is None else runs).filter(status=RestoreRun.Status.RUNNING)
    ended = 0
    for run in running.exclude(pk__in=_held_ids()).select_related("tenant"):
        if run.phase == QUEUED:
            if run.started_at < timezone.now() - UNCLAIMED_FOR and hold(run.pk):
                ended += _end_if_running(run, NEVER_TAKEN)
        elif hold(run.pk):
            ended += _end_if_running(run, DEAD_WORKER)
    return ended


def _end_if_running(run, error: str) -> int:
    """With the run's lock held: end it as failed unless it ended meanwhile (then just let go)."""
    if RestoreRun.objects.filter(pk=run.pk, status=RestoreRun.Status.RUNNING).exists():
        _end(run, RestoreRun.Status.FAILED, error=error)
        return 1
    release(run.pk)
    return 0
