"""The hourly check (tasks.check_backups, `manage.py check_backups`): every good backup's file is
there with its recorded checksum, or the backup is marked bad at once; a backup one of whose two
copies is damaged stays good but is reported; and each has its second copy when BACKUP_COPY_TO
is set (missing copies are made again)."""

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
    damaged: dict[int, str] = field(default_factory=dict)  # good thanks to one copy; what is wrong with the other
    copied: list[int] = field(default_factory=list)


def check_backups() -> CheckReport:
    """Check every good backup; mark the ones no copy of which matches as bad. Audited as one event."""
    report = CheckReport()
    for backup in Backup.objects.filter(status=Backup.Status.GOOD).order_by("started_at", "id"):
        problems = [reason for _location, reason in storage.location_problems(backup)]
        report.checked.append(backup.pk)
        if all(problems):
            if storage.mark_bad(backup, "; ".join(problems) or "no file recorded"):
                report.bad[backup.pk] = backup.error
            continue
        Backup.objects.filter(pk=backup.pk).update(checked_at=timezone.now())
        if any(problems):
            report.damaged[backup.pk] = "; ".join(filter(None, problems))
            log.warning("backup %s: %s; another copy is intact", backup.pk, report.damaged[backup.pk])
    if storage.copy_target():
        report.copied = copy_missing()
    record_system(
        AuditEvent.Action.BACKUP_CHECKED,
        detail={
            "checked": report.checked,
            "bad": sorted(report.bad),
            "damaged": sorted(report.damaged),
            "copied": report.copied,
        },
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
