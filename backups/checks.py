"""The hourly check (tasks.check_backups, `manage.py check_backups`): every good backup's file is
there with its recorded checksum, or the backup is marked bad at once; and each has its second
copy when BACKUP_COPY_TO is set (missing copies are made again)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.utils import timezone

from audit.events import record_system
from audit.models import AuditEvent
from backups import storage
from backups.dump import BackupBusy, backup_lock, second_copy
from backups.models import Backup

log = logging.getLogger(__name__)


@dataclass
class CheckReport:
    checked: list[int] = field(default_factory=list)
    bad: dict[int, str] = field(default_factory=dict)  # backup id -> why
    copied: list[int] = field(default_factory=list)


def check_backups() -> CheckReport:
    """Check every good backup; mark the ones no copy of which matches as bad. Audited as one event."""
    report = CheckReport()
    for backup in Backup.objects.filter(status=Backup.Status.GOOD).order_by("started_at", "id"):
        reason = storage.verify(backup)
        report.checked.append(backup.pk)
        if reason:
            if storage.mark_bad(backup, reason):
                report.bad[backup.pk] = reason
        else:
            Backup.objects.filter(pk=backup.pk).update(checked_at=timezone.now())
    if storage.copy_target():
        report.copied = copy_missing()
    record_system(
        AuditEvent.Action.BACKUP_CHECKED,
        detail={"checked": report.checked, "bad": sorted(report.bad), "copied": report.copied},
    )
    return report


def copy_missing() -> list[int]:
    """Make the second copy of good backups that lack one (not while a backup runs: it makes its own)."""
    copied = []
    try:
        with backup_lock():
            for backup in Backup.objects.filter(status=Backup.Status.GOOD, copy_location="").order_by("started_at"):
                location = second_copy(backup)
                if location:
                    Backup.objects.filter(pk=backup.pk).update(copy_location=location)
                    copied.append(backup.pk)
    except BackupBusy:
        log.info("a backup is running: missing copies are made at the next check")
    return copied
