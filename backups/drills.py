"""Restore drills: a backup restored into a scratch database and compared with its manifest.

A backup is only proven restorable by restoring it. The weekly drill
(tasks.restore_drill, `manage.py verify_backups`) restores the newest good
backup into a throw-away database, counts its rows per table and tenant, and
compares them with the counts the manifest recorded at backup time.
"""

from __future__ import annotations

import time
from pathlib import Path

from django.utils import timezone

from audit.events import record as audit
from audit.models import AuditEvent
from backups import postgres
from backups.models import Backup, RestoreDrill
from backups.postgres import BackupError
from backups.restore import good_backup


def drill(backup: Backup | None = None) -> RestoreDrill:
    """Restore a backup into a scratch database and compare its row counts with the manifest."""
    backup = backup or good_backup()
    run = RestoreDrill.objects.create(backup=backup, started_at=timezone.now())
    try:
        started = time.monotonic()
        with postgres.scratch_database(Path(backup.path), "crm_drill") as scratch:
            run.restore_seconds = round(time.monotonic() - started, 3)
            restored = postgres.connect(scratch)
            try:
                with restored.cursor() as cursor:
                    counts = postgres.row_counts(cursor)
            finally:
                restored.close()
        run.mismatches = compare_counts(backup.manifest.get("row_counts", {}), counts)
        run.passed = not run.mismatches
    except BackupError as error:
        run.passed, run.error = False, str(error)
    run.finished_at = timezone.now()
    run.save()
    audit(
        AuditEvent.Action.BACKUP_VERIFIED,
        object_type="backup",
        object_id=backup.pk,
        detail={"passed": run.passed, "restore_seconds": run.restore_seconds, "mismatches": len(run.mismatches)},
    )
    return run


def compare_counts(expected: dict, actual: dict) -> list[dict]:
    mismatches = []
    for table in sorted(set(expected) | set(actual)):
        want, got = expected.get(table, {}), actual.get(table, {})
        for key in sorted(set(want) | set(got)):
            if want.get(key, 0) != got.get(key, 0):
                mismatches.append(
                    {"table": table, "tenant": key, "expected": want.get(key, 0), "found": got.get(key, 0)}
                )
    return mismatches
