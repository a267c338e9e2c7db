"""The weekly point-in-time drill: point-in-time recovery is only proven by recovering.

It notes a recent moment and the row counts per table and company as they were at it (one
snapshot, read on the live database), recovers the database to that moment from the base
backup and the archived WAL on a scratch server (backups/pitr.py), checks the base backup
with pg_verifybackup, and compares the recovered counts with the noted ones. The result is
a RestoreDrill of the recovered backup (passed, mismatches, the seconds the recovery took);
either way a backup_verified audit event, and on failure an error line and the backups
page's PITR card says so (`last_drill`). A recovery that fails before there is anything to
drill on is recorded by its audit event alone.

The moment is the drill's own start rather than one chosen in the past: only for a moment
the drill saw can it know what existed then. The counts are read in the snapshot taken with
it; a transaction committing in the same microseconds could fall on either side.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone

from audit.events import record_system
from audit.models import AuditEvent, SystemEvent
from backups import basebackup, pitr, postgres
from backups.drills import compare_counts
from backups.models import BaseBackup, RestoreDrill
from backups.postgres import BackupError

log = logging.getLogger(__name__)
KIND = "point_in_time"


@dataclass
class PitrDrillResult:
    passed: bool
    moment: object = None
    seconds: float | None = None
    drill: RestoreDrill | None = None
    mismatches: list = field(default_factory=list)
    error: str = ""


def counts_at_a_moment():
    """(the moment, {table: {tenant: rows}}) read in one snapshot of the live database."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT clock_timestamp()")  # the first statement takes the snapshot
        (moment,) = cursor.fetchone()
        return moment, postgres.row_counts(cursor)


def pitr_drill() -> PitrDrillResult:
    moment, expected = counts_at_a_moment()
    started = time.monotonic()
    result = PitrDrillResult(passed=False, moment=moment)
    try:
        base = (
            BaseBackup.objects.filter(status=BaseBackup.Status.GOOD, finished_at__lte=moment)
            .order_by("-finished_at")
            .first()
        )
        if base is None:
            raise BackupError("No good base backup to drill on.")
        basebackup.verify(base.path)  # every file against its checksum, and its WAL in the archive
        backup = pitr.recover(moment)
        result.seconds = round(time.monotonic() - started, 3)
        result.mismatches = compare_counts(expected, backup.manifest.get("row_counts", {}))
        result.passed = not result.mismatches
        result.drill = RestoreDrill.objects.create(
            backup=backup,
            started_at=timezone.now() - timedelta(seconds=result.seconds),
            finished_at=timezone.now(),
            restore_seconds=result.seconds,
            passed=result.passed,
            mismatches=result.mismatches,
        )
    except (BackupError, OSError) as error:
        result.error = str(error)
        result.seconds = round(time.monotonic() - started, 3)
    if not result.passed:
        log.error("point-in-time drill to %s FAILED: %s", moment.isoformat(), result.error or result.mismatches[:3])
    record_system(
        AuditEvent.Action.BACKUP_VERIFIED,
        target=result.drill.backup if result.drill else None,
        detail={
            "kind": KIND,
            "moment": moment.isoformat(),
            "passed": result.passed,
            "seconds": result.seconds,
            "mismatches": len(result.mismatches),
            **({"error": result.error.splitlines()[0][:200]} if result.error else {}),
        },
    )
    return result


def last_drill() -> dict | None:
    """The newest point-in-time drill's outcome as its audit event recorded it (None: never drilled)."""
    event = (
        SystemEvent.objects.filter(action=SystemEvent.Action.BACKUP_VERIFIED, detail__kind=KIND)
        .order_by("-id")
        .values("detail", "created_at")
        .first()
    )
    return {**event["detail"], "at": event["created_at"]} if event else None
