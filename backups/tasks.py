"""Scheduled backups and restore drills (Celery beat; one beat process only)."""

import logging

from celery import shared_task

from backups.dump import BackupBusy, take_backup
from backups.models import Backup
from backups.restore import drill
from backups.retention import apply_retention
from crm.tenancy.context import activate

log = logging.getLogger(__name__)


@shared_task(acks_late=False)
def scheduled_backup(kind: str = Backup.Kind.SCHEDULED) -> int | None:
    """Nightly: one verified backup, then grandfather-father-son retention."""
    with activate(None, process="celery:backup"):
        try:
            backup = take_backup(kind)
        except BackupBusy:
            log.warning("backup skipped: another backup is running")
            return None
        if backup.status == Backup.Status.GOOD:
            apply_retention()
        else:
            log.error("backup %s failed: %s", backup.pk, backup.error)
        return backup.pk


@shared_task
def restore_drill() -> bool:
    """Weekly: restore the newest good backup into a scratch database and compare counts."""
    with activate(None, process="celery:restore_drill"):
        result = drill()
        log.info("restore drill of backup %s: %s", result.backup_id, "passed" if result.passed else "FAILED")
        return bool(result.passed)
