"""Backup tasks: the scheduled backup and drill (Celery beat; one beat process only), and the
backups and restores queued by backups.actions, which run here so a request never waits for pg_dump."""

import logging
from contextvars import ContextVar
from dataclasses import asdict, dataclass
from functools import partial

from celery import shared_task
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db.models.signals import post_save
from django.dispatch import receiver

from audit.events import record_system
from audit.models import AuditEvent
from backups import actions, checks, pitr, wal, walcopy
from backups import pitr_drill as pitr_drills
from backups.drills import drill
from backups.models import Backup, RestoreRun
from backups.postgres import BackupError
from backups.restore import (
    QUEUED,
    _end,
    _phase,
    good_backup,
    hold,
    mark_stale_restores,
    release,
    restore_customer,
    restore_database,
    restore_tenant,
)
from backups.sweep import sweep
from backups.window import apply_window
from crm.celery import app as celery_app
from crm.tenancy.acting import ActionConflict
from crm.tenancy.context import activate

log = logging.getLogger(__name__)

# A custom task state: the task's Backup row exists; its meta is {"backup_id": id}.
BACKUP_STARTED = "BACKUP_STARTED"

# Set while backup_now runs: called with the id of the Backup row take_backup() creates.
_announce_backup: ContextVar = ContextVar("announce_backup", default=None)


@shared_task(acks_late=False)
def scheduled_backup(kind: str = Backup.Kind.SCHEDULED) -> int | None:
    """Nightly: one verified backup, then grandfather-father-son retention (and a sweep of dead restores)."""
    with activate(None, process="celery:backup"):
        mark_stale_restores()
        try:
            backup = actions.back_up(kind=kind, acting_user=None)
        except ActionConflict:
            log.warning("backup skipped: another backup is running")
            return None
        if backup.status != Backup.Status.GOOD:
            log.error("backup %s failed: %s", backup.pk, backup.error)
        return backup.pk


@shared_task
def restore_drill() -> bool:
    """Weekly: restore the newest good backup into a scratch database and compare counts."""
    with activate(None, process="celery:restore_drill"):
        result = drill()
        log.info("restore drill of backup %s: %s", result.backup_id, "passed" if result.passed else "FAILED")
        return bool(result.passed)


@shared_task
def check_backups() -> dict:
    """Hourly: every good backup's file is there with its checksum (else it is marked bad)."""
    with activate(None, process="celery:check_backups"):
        report = checks.check_backups()
        if report.bad:
            log.error("backups failed verification: %s", report.bad)
        return {"checked": len(report.checked), "bad": sorted(report.bad)}


@shared_task
def sweep_dead_work() -> dict:
    """Every few minutes: fail the backups, restores and drills whose worker died; drop what they left."""
    with activate(None, process="celery:sweep"):
        return asdict(sweep())


@receiver(post_save, sender=Backup, dispatch_uid="backups.tasks.announce_backup")
def _backup_row_created(sender, instance, created, **kwargs):
    announce = _announce_backup.get()
    if created and announce is not None:
        announce(instance.pk)


@shared_task(bind=True, acks_late=False)
def backup_now(self, user_id: int | None = None) -> dict:
    """A manual backup queued by actions.start_backup (the browser's or the API's "Back up now").

    take_backup() creates its Backup row itself (under the one-backup lock; a row made
    beforehand would be marked stale by it), so the task publishes that row's id as
    soon as it exists, as the task state BACKUP_STARTED; the pages and the API then follow the row.
    Returns {"backup_id": id or None, "busy": True when another backup was running}.
    """
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None

    def announce(backup_id):
        if self.request.id:
            self.update_state(state=BACKUP_STARTED, meta={"backup_id": backup_id})

    token = _announce_backup.set(announce)
    try:
        with activate(None, user=user, process="celery:backup_now"):
            try:
                backup = actions.back_up(kind=Backup.Kind.MANUAL, acting_user=user)
            except ActionConflict:
                log.warning("manual backup not started: another backup is running")
                return {"backup_id": None, "busy": True}
            if backup.status != Backup.Status.GOOD:
                log.error("backup %s failed: %s", backup.pk, backup.error)
            return {"backup_id": backup.pk, "busy": False}
    finally:
        _announce_backup.reset(token)


@dataclass(frozen=True)
class BackupTaskOutcome:
    """What became of a `backup_now` task, for the browser's pending page and the API.

    state: "queued" (waiting for a worker; an unknown task id reads the same),
    "created" (its Backup row exists: `backup_id`), "busy" (another backup was
    running: nothing was done) or "failed" (the task itself failed: `error`).
    """

    state: str
    backup_id: int | None = None
    error: str = ""


def backup_task_outcome(task_id: str) -> BackupTaskOutcome:
    result = celery_app.AsyncResult(task_id)
    state = result.state
    info = result.info if isinstance(result.info, dict) else {}
    backup_id = info.get("backup_id") if state in (BACKUP_STARTED, "SUCCESS") else None
    if backup_id:
        return BackupTaskOutcome("created", backup_id)
    if state == "SUCCESS":  # the task returns no backup only when another backup was running
        return BackupTaskOutcome("busy")
    if state == "FAILURE":
        return BackupTaskOutcome("failed", error=str(result.info) or type(result.info).__name__)
    return BackupTaskOutcome("queued")


@shared_task(acks_late=False)
def run_restore(run_id: int) -> str | None:
    """Carry out a RestoreRun actions.start_restore created (status running, phase "queued").

    The run is claimed by moving it off "queued", so a second delivery does nothing.
    The restore runs in the run's tenant, as the user who asked for it.
    """
    # The lock first, then the claim: no moment where the run is claimed and nobody holds it.
    claimed = hold(run_id) and RestoreRun.objects.filter(
        pk=run_id, status=RestoreRun.Status.RUNNING, phase=QUEUED
    ).update(phase="starting")
    if not claimed:
        release(run_id)
        log.warning("restore %s is not queued; nothing to do", run_id)
        return None
    run = RestoreRun.objects.select_related("backup", "tenant", "created_by").get(pk=run_id)
    user = run.created_by
    with activate(run.tenant, user=user, process="celery:restore", reason="restored from backup"):
        try:
            if run.backup_id is None:  # a restore to a moment: first the database as it was then
                run.backup = recovered(run)
            backup = good_backup(run.backup_id)  # still good, and its file still there
            if run.scope == RestoreRun.Scope.TENANT:
                run = restore_tenant(backup, run.tenant, user=user, run=run)
            elif run.scope == RestoreRun.Scope.CUSTOMER:
                if run.moment is not None:  # its id could not be checked before the recovery
                    actions.check_customer(backup, run.tenant, int(run.target))
                run = restore_customer(backup, run.tenant, int(run.target), user=user, run=run)
            else:
                run = restore_database(backup, run.target, user=user, run=run)
        except BackupError as error:
            run = _end(run, RestoreRun.Status.FAILED, error=str(error))
        except ValidationError as error:  # the customer is not in the database as it was
            run = _end(run, RestoreRun.Status.FAILED, error=" ".join(error.messages))
        except Exception as error:
            # Never leave the browser polling a run nobody works on any more.
            log.exception("restore %s failed", run_id)
            run = _end(run, RestoreRun.Status.FAILED, error=f"{type(error).__name__}: {error}")
    log.info("restore %s (%s %s): %s", run.pk, run.scope, run.target, run.status)
    return run.status


# -- point-in-time recovery (backups/pitr.py) ------------------------------------------


def recovered(run: RestoreRun) -> Backup:
    """The database as it was at the run's moment, as a backup the run then restores from."""
    backup = pitr.recover(run.moment, user=run.created_by, progress=partial(_phase, run))
    RestoreRun.objects.filter(pk=run.pk).update(backup=backup)
    return backup


@shared_task(acks_late=False)
def scheduled_base_backup(incremental: bool = False) -> int:
    """Weekly, and as soon as archiving runs without one: a verified base backup, then the window.
    Daily with `incremental`: only what changed since the newest one (a full one where the server cannot)."""
    with activate(None, process="celery:base_backup"):
        base = actions.take_base_backup(incremental=incremental, acting_user=None)
        apply_window()
        return base.pk


@shared_task
def watch_wal_archive() -> str:
    """Every few minutes: a new archiving failure is an audit event and an error line (once per failure);
    the first base backup is queued as soon as the server archives."""
    status = wal.status()
    if status.failing and cache.add(f"wal-failure:{status.last_failed_at.isoformat()}", 1, timeout=30 * 86400):
        log.error("WAL archiving is failing since %s", status.last_failed_at.isoformat())
        with activate(None, process="celery:watch_wal_archive"):
            record_system(AuditEvent.Action.ARCHIVING_FAILED, detail={"since": status.last_failed_at.isoformat()})
    if status.archiving and status.window_start is None and cache.add("wal-first-base-backup", 1, timeout=3600):
        scheduled_base_backup.delay()
    return status.problem


@shared_task
def pitr_drill() -> bool:
    """Weekly: recover the database to a recent moment and compare its counts (backups/pitr_drill.py)."""
    with activate(None, process="celery:pitr_drill"):
        result = pitr_drills.pitr_drill()
        log.info("point-in-time drill to %s: %s", result.moment, "passed" if result.passed else "FAILED")
        return result.passed


@shared_task
def copy_wal_archive() -> dict:
    """Every minute: newly archived WAL encrypted at rest (with a key), its checksum beside it, and the
    second copy (BACKUP_COPY_TO) made and checked (backups/walcopy.py)."""
    result = walcopy.seal_archive()
    return {"sealed": len(result.sealed), "copied": result.copied, "problems": result.problems}
