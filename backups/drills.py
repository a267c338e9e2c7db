"""Restore drills: a backup restored into a scratch database and compared with its manifest
(and every attached file's bytes with its checksum).

A backup is only proven restorable by restoring it. The weekly drill
(tasks.restore_drill, `manage.py verify_backups`) restores the newest good
backup into a throw-away database, counts its rows per table and tenant, and
compares them with the counts the manifest recorded at backup time. A drill
that fails because of the file (it does not match its checksum, does not
restore, or its counts differ) marks the backup bad; one that fails because the
worker died or the encryption key is wrong does not. A running drill holds an
advisory lock on its id, so backups.sweep can tell a dead one from a live one.
"""

from __future__ import annotations

import time

from django.db import transaction
from django.utils import timezone

from attachments.verify import damaged_files
from audit.events import record as audit
from audit.models import AuditEvent
from backups import postgres, storage
from backups.crypto import KeyProblem
from backups.models import Backup, RestoreDrill
from backups.postgres import BackupError
from backups.restore import good_backup
from crm.records.session_locks import try_lock, unlock

DRILL_LOCK = 0x44524C4C  # "DRLL"; the second key is the drill's id, held by its session while it runs
DEAD_WORKER = "The worker running this drill stopped before it finished."


def drill(backup: Backup | None = None) -> RestoreDrill:
    """Restore a backup into a scratch database and compare its row counts with the manifest.

    A failed drill marks the backup bad (storage.mark_bad): it is not restorable.
    """
    backup = backup or good_backup()
    with transaction.atomic():  # the lock is held before any other session can see the row
        run = RestoreDrill.objects.create(backup=backup, started_at=timezone.now())
        try_lock((DRILL_LOCK, run.pk))  # a new id: nobody else holds it
    try:
        started = time.monotonic()
        with storage.readable(backup) as dump, postgres.scratch_database(dump, "crm_drill") as scratch:
            run.restore_seconds = round(time.monotonic() - started, 3)
            restored = postgres.connect(scratch)
            try:
                with restored.cursor() as cursor:
                    counts = postgres.row_counts(cursor)
                    damaged = damaged_files(cursor)  # every attachment's bytes against its checksum
            finally:
                restored.close()
            run.mismatches = compare_counts(backup.manifest.get("row_counts", {}), counts) + damaged
            run.passed = not run.mismatches
            if run.passed:  # while the scratch database still exists: a drill is also a check
                Backup.objects.filter(pk=backup.pk).update(checked_at=timezone.now())
            else:
                storage.mark_bad(backup, f"restore drill {run.pk}: {len(run.mismatches)} row counts or files differ")
    except BackupError as error:
        run.passed, run.error = False, str(error)
        if not isinstance(error, KeyProblem):  # a wrong key is not the file's fault
            storage.mark_bad(backup, f"restore drill {run.pk}: {error}")
    finally:
        unlock((DRILL_LOCK, run.pk))
    run.finished_at = timezone.now()
    run.save()
    audit(
        AuditEvent.Action.BACKUP_VERIFIED,
        object_type="backup",
        object_id=backup.pk,
        detail={"passed": run.passed, "restore_seconds": run.restore_seconds, "mismatches": len(run.mismatches)},
    )
    return run


def mark_stale_drills() -> int:
    """End as failed the drills still running whose worker is gone (nobody holds their lock)."""
    ended = 0
    for run in RestoreDrill.objects.filter(finished_at__isnull=True, passed__isnull=True):
        if not try_lock((DRILL_LOCK, run.pk)):
            continue
        try:
            ended += RestoreDrill.objects.filter(pk=run.pk, finished_at__isnull=True).update(
                passed=False, error=DEAD_WORKER, finished_at=timezone.now()
            )
        finally:
            unlock((DRILL_LOCK, run.pk))
    return ended


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
