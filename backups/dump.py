"""Taking a backup. It counts as good only after every step below succeeded:

1. pg_dump (custom format) wrote the file itself (-f: no pipe can hide its exit code),
   under a temporary name, from an exported snapshot shared with the row counts;
2. the file was fsynced and `pg_restore --list` read it; it was then encrypted when
   BACKUP_ENCRYPTION_KEY is set (backups.crypto), and the sha256 taken of what is stored;
3. a manifest (time, size, duration, versions, migrations, row counts per table
   per tenant) was written and fsynced next to it;
4. both were renamed atomically to their final names and the directory fsynced;
   all of them mode 0600 in a 0700 directory (backups.storage).
5. With BACKUP_COPY_TO set, both are copied there and the copy checked (a failed copy
   leaves the backup good, without a copy; the hourly check tries again).

Anything else leaves the Backup row failed with the reason and no file under
a final name. One backup runs at a time: a session-level advisory lock held
by this connection, released by PostgreSQL itself if the worker dies.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg2
from django.db import connection, transaction
from django.utils import timezone

from audit.events import record as audit
from audit.heads import chain_heads
from audit.models import AuditEvent
from backups import crypto, postgres, storage
from backups.models import Backup
from backups.postgres import BackupError
from backups.storage import backup_dir, fsync_file, private_directory, private_file
from crm.records.session_locks import is_held, try_lock, unlock
from crm.tenancy.rls import system_database

log = logging.getLogger(__name__)
LOCK_KEY = (0x42414B55, 1)  # "BAKU", 1: one backup at a time
PARTIAL_SUFFIX = ".partial"


class BackupBusy(BackupError):
    """Another backup is running."""


@contextmanager
def backup_lock():
    if not try_lock(LOCK_KEY):
        raise BackupBusy("another backup is running")
    try:
        yield
    finally:
        unlock(LOCK_KEY)


def backup_running() -> bool:
    """Whether a backup holds the one-backup lock right now."""
    return is_held(LOCK_KEY)


def mark_stale_runs() -> int:
    """Runs still "running" while nobody holds the lock belong to a dead worker: mark them failed, and
    delete the partial files they left (in BACKUP_DIR and BACKUP_COPY_TO)."""
    if not try_lock(LOCK_KEY):
        return 0
    try:
        for directory in (backup_dir(), *([Path(storage.copy_target())] if storage.copy_directory() else [])):
            for leftover in directory.glob(f".crm-*{PARTIAL_SUFFIX}"):
                leftover.unlink(missing_ok=True)
        return Backup.objects.filter(status=Backup.Status.RUNNING).update(
            status=Backup.Status.FAILED,
            finished_at=timezone.now(),
            error="The worker running this backup stopped before it finished.",
        )
    finally:
        unlock(LOCK_KEY)


@dataclass(frozen=True)
class Source:
    """A database to back up other than the live one: a server recovered to a moment (backups/pitr.py)."""

    host: str
    port: int
    database: str

    def connection_args(self) -> tuple[list[str], dict[str, str]]:
        user = system_database().get("USER")
        args = [
            "--no-password",
            "-h",
            self.host,
            "-p",
            str(self.port),
            *(["-U", user] if user else []),
            "-d",
            self.database,
        ]
        return args, {**os.environ, "PGCONNECT_TIMEOUT": "10"}

    @contextmanager
    def cursor(self):
        user = system_database().get("USER") or None
        source = psycopg2.connect(host=self.host, port=self.port, dbname=self.database, user=user)
        try:
            with source, source.cursor() as cursor:
                yield cursor
        finally:
            source.close()


def take_backup(
    kind: str = Backup.Kind.SCHEDULED,
    user=None,
    os_user: str = "",
    source: Source | None = None,
    extra_manifest: dict | None = None,
) -> Backup:
    """Run one backup synchronously; returns the Backup row (good or failed). `os_user`: the
    operating-system account of a backup started from the command line. `source`: another
    database than the live one, whose audit chain heads are not the live ones (left out)."""
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
            os_user=os_user,
        )
        started = time.monotonic()
        partial = sealed = manifest_partial = None
        try:
            directory = private_directory(backup_dir())
            stem = f"crm-{backup.started_at:%Y%m%dT%H%M%SZ}-{backup.pk}"
            partial = directory / f".{stem}.dump{PARTIAL_SUFFIX}"
            sealed = directory / f".{stem}.sealed{PARTIAL_SUFFIX}"
            manifest_partial = directory / f".{stem}.json{PARTIAL_SUFFIX}"
            private_file(partial).close()  # pg_dump writes into it and keeps its mode
            counts, migrations = dump_to(partial, backup, source)
            _progress(backup, "verifying")
            fsync_file(partial)
            postgres.run([postgres.binary("pg_restore"), "--list", str(partial)])
            digest, size = storage.seal(partial, sealed)  # encrypted at rest when a key is set
            fsync_file(sealed)
            manifest = {
                "backup_id": backup.pk,
                "created_at": backup.started_at.isoformat(),
                "duration_seconds": round(time.monotonic() - started, 3),
                "size": size,
                "sha256": digest,
                "encrypted": crypto.configured_key() is not None,
                "server_version": postgres.server_version(),
                "pg_dump_version": postgres.version_of("pg_dump"),
                "migrations": migrations,
                "row_counts": counts,
                # each audit chain's last event, kept outside the database
                "audit_heads": chain_heads() if source is None else {},
                **(extra_manifest or {}),
            }
            with private_file(manifest_partial) as handle:
                handle.write(json.dumps(manifest, indent=1, sort_keys=True).encode())
            fsync_file(manifest_partial)
            final = directory / f"{stem}.dump"
            os.replace(sealed, final)
            os.replace(manifest_partial, directory / f"{stem}.json")
            fsync_file(directory)
        except Exception as error:
            for leftover in (partial, sealed, manifest_partial):
                if leftover is not None:
                    leftover.unlink(missing_ok=True)
            return _finish(backup, started, status=Backup.Status.FAILED, error=_reason(error))
        backup.path, backup.size, backup.sha256 = str(final), size, digest
        return _finish(
            backup,
            started,
            status=Backup.Status.GOOD,
            path=str(final),
            size=size,
            sha256=digest,
            manifest=manifest,
            copy_location=second_copy(backup),
        )


def second_copy(backup: Backup) -> str:
    """Where the second copy of a good backup went ("" if none is configured or copying failed: the
    hourly check tries again)."""
    if not storage.copy_target():
        return ""
    try:
        return storage.copy_out(backup)
    except (BackupError, OSError) as error:
        log.error("backup %s: the second copy failed: %s", backup.pk, _reason(error))
        return ""


def dump_to(path: Path, backup: Backup, source: Source | None = None):
    """pg_dump into `path` from an exported snapshot; the row counts come from the same snapshot."""
    _progress(backup, "dumping")
    if source is not None:
        with source.cursor() as cursor:
            return _dump_in_snapshot(cursor, path, *source.connection_args())
    with transaction.atomic(), connection.cursor() as cursor:
        return _dump_in_snapshot(cursor, path, *postgres.connection_args())


def _dump_in_snapshot(cursor, path: Path, args: list[str], env: dict[str, str]):
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
    good = backup.status == Backup.Status.GOOD
    # One transaction: whoever sees the finished backup also sees its audit event.
    with transaction.atomic():
        backup.save(update_fields=list(values))
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
