"""Taking a backup. It counts as good only after every step below succeeded:

1. pg_dump (custom format) wrote the file itself (-f: no pipe can hide its exit code),
   under a temporary name, from an exported snapshot shared with the row counts;
2. the file was fsynced, `pg_restore --list` read it, its sha256 was taken;
3. a manifest (time, size, duration, versions, migrations, row counts per table
   per tenant) was written and fsynced next to it;
4. both were renamed atomically to their final names and the directory fsynced.

Anything else leaves the Backup row failed with the reason and no file under
a final name. One backup runs at a time: a session-level advisory lock held
by this connection, released by PostgreSQL itself if the worker dies.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from audit.events import record as audit
from audit.heads import chain_heads
from audit.models import AuditEvent
from backups import postgres
from backups.models import Backup
from backups.postgres import BackupError

LOCK_KEY = (0x42414B55, 1)  # "BAKU", 1: one backup at a time
PARTIAL_SUFFIX = ".partial"
CHUNK = 1024 * 1024


class BackupBusy(BackupError):
    """Another backup is running."""


@contextmanager
def backup_lock():
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", LOCK_KEY)
        if not cursor.fetchone()[0]:
            raise BackupBusy("another backup is running")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", LOCK_KEY)


def backup_running() -> bool:
    """Whether a backup holds the one-backup lock right now (read from pg_locks; takes nothing)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND classid = %s AND objid = %s AND objsubid = 2)",
            LOCK_KEY,
        )
        return cursor.fetchone()[0]


def mark_stale_runs() -> int:
    """Runs still "running" while nobody holds the lock belong to a dead worker: mark them failed."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", LOCK_KEY)
        if not cursor.fetchone()[0]:
            return 0
        try:
            return Backup.objects.filter(status=Backup.Status.RUNNING).update(
                status=Backup.Status.FAILED,
                finished_at=timezone.now(),
                error="The worker running this backup stopped before it finished.",
            )
        finally:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", LOCK_KEY)


def backup_dir() -> Path:
    return Path(settings.BACKUP_DIR)


def take_backup(kind: str = Backup.Kind.SCHEDULED, user=None) -> Backup:
    """Run one backup synchronously; returns the Backup row (good or failed)."""
    if connection.in_atomic_block:
        raise BackupError("A backup must run outside a transaction (pg_dump cannot see uncommitted rows).")
    mark_stale_runs()
    with backup_lock():
        backup = Backup.objects.create(
            kind=kind,
            started_at=timezone.now(),
            phase="starting",
            worker=f"{socket.gethostname()}:{os.getpid()}",
            created_by=user if getattr(user, "pk", None) else None,
        )
        started = time.monotonic()
        partial = manifest_partial = None
        try:
            directory = backup_dir()
            directory.mkdir(parents=True, exist_ok=True)
            stem = f"crm-{backup.started_at:%Y%m%dT%H%M%SZ}-{backup.pk}"
            partial = directory / f".{stem}.dump{PARTIAL_SUFFIX}"
            manifest_partial = directory / f".{stem}.json{PARTIAL_SUFFIX}"
            counts, migrations = dump_to(partial, backup)
            _progress(backup, "verifying")
            fsync_file(partial)
            postgres.run([postgres.binary("pg_restore"), "--list", str(partial)])
            digest, size = sha256_of(partial)
            manifest = {
                "backup_id": backup.pk,
                "created_at": backup.started_at.isoformat(),
                "duration_seconds": round(time.monotonic() - started, 3),
                "size": size,
                "sha256": digest,
                "server_version": postgres.server_version(),
                "pg_dump_version": postgres.version_of("pg_dump"),
                "migrations": migrations,
                "row_counts": counts,
                "audit_heads": chain_heads(),  # each audit chain's last event, kept outside the database
            }
            manifest_partial.write_text(json.dumps(manifest, indent=1, sort_keys=True))
            fsync_file(manifest_partial)
            final = directory / f"{stem}.dump"
            os.replace(partial, final)
            os.replace(manifest_partial, directory / f"{stem}.json")
            fsync_file(directory)
        except Exception as error:
            for leftover in (partial, manifest_partial):
                if leftover is not None:
                    leftover.unlink(missing_ok=True)
            return _finish(backup, started, status=Backup.Status.FAILED, error=_reason(error))
        return _finish(
            backup,
            started,
            status=Backup.Status.GOOD,
            path=str(final),
            size=size,
            sha256=digest,
            manifest=manifest,
        )


def dump_to(path: Path, backup: Backup):
    """pg_dump into `path` from an exported snapshot; the row counts come from the same snapshot."""
    args, env = postgres.connection_args()
    _progress(backup, "dumping")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        # The counts share the cores with pg_dump, whose client (compression) and backend
        # (COPY) already keep ~1.3 of 2 cores busy: 5.7 s + 3.8 s of CPU for ~7 s of wall
        # time on the 1M-customer dataset. One process counting with index-only scans
        # takes ~0.35 s of CPU and fits in the spare core; parallel workers do the same
        # work in three processes at once and take it from pg_dump instead. Set here,
        # not left to the server or PG_OPTIONS defaults.
        cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot = cursor.fetchone()[0]
        command = [postgres.binary("pg_dump"), "--format=custom", f"--snapshot={snapshot}", f"--file={path}", *args]
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            # Count while pg_dump runs: same snapshot, the other core.
            counts = postgres.row_counts(cursor)
            migrations = postgres.applied_migrations(cursor)
        finally:
            _stderr, error_output = process.communicate()
    if process.returncode != 0:
        detail = " ".join((error_output or "").strip().splitlines()[-3:])
        raise BackupError(f"pg_dump exited with {process.returncode}: {detail}")
    return counts, migrations


def _progress(backup: Backup, phase: str) -> None:
    # Outside the dump's transaction when possible; the browser polls this.
    Backup.objects.filter(pk=backup.pk).update(phase=phase)


def _finish(backup: Backup, started: float, **values) -> Backup:
    values.update(finished_at=timezone.now(), duration=round(time.monotonic() - started, 3), phase="")
    for name, value in values.items():
        setattr(backup, name, value)
    backup.save(update_fields=list(values))
    good = backup.status == Backup.Status.GOOD
    audit(
        AuditEvent.Action.BACKUP_CREATED if good else AuditEvent.Action.BACKUP_FAILED,
        object_type="backup",
        object_id=backup.pk,
        detail={"kind": backup.kind, "size": backup.size, "duration": backup.duration},
    )
    return backup


def _reason(error: Exception) -> str:
    if isinstance(error, BackupError):
        return str(error)
    if isinstance(error, OSError):
        return f"{error.strerror or error} ({error.filename})" if error.filename else str(error)
    return f"{type(error).__name__}: {error}"


def fsync_file(path: Path) -> None:
    flags = os.O_RDONLY | (os.O_DIRECTORY if path.is_dir() else 0)
    descriptor = os.open(path, flags)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def sha256_of(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size
