"""Base backups: pg_basebackup of the whole cluster, checked with pg_verifybackup against the
WAL archive. With the WAL archived after it, one reaches every later moment (backups/pitr.py).

pgBackRest does the same for large installations (parallel, incremental, remote repositories);
docs/operations.md says how it would take over. These are PostgreSQL's own tools, which the
embedded server ships and production installs with the server.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import tempfile
from datetime import datetime
from pathlib import Path

from django.db import connection, transaction
from django.utils import timezone

from audit.events import record as audit
from audit.models import AuditEvent
from backups import basestore, postgres, wal
from backups.models import BaseBackup
from backups.postgres import BackupError
from backups.storage import backup_dir, private_directory

log = logging.getLogger(__name__)
START_SEGMENT = re.compile(r"^START WAL LOCATION: .* \(file ([0-9A-F]{24})\)$", re.MULTILINE)


def base_backup_dir() -> Path:
    return private_directory(backup_dir() / "base")


def take_base_backup(*, user=None, os_user: str = "", incremental: bool = False) -> BaseBackup:
    """Copy the cluster now; the row ends good (verified) or failed with the reason. `incremental`:
    only what changed since the newest good base backup, where the server can (else a full one)."""
    parent = incremental_parent() if incremental else None
    base = BaseBackup.objects.create(
        started_at=timezone.now(),
        created_by=user if getattr(user, "pk", None) else None,
        os_user=os_user,
        parent=parent,
    )
    final = base_backup_dir() / f"base-{base.started_at:%Y%m%dT%H%M%SZ}-{base.pk}"
    partial = final.with_name(f".{final.name}.partial")
    try:
        try:
            copied_at, base.first_segment = copy_verified(partial, parent=parent)
        except BackupError as error:
            if parent is None:
                raise
            # Its WAL summaries do not reach back to the parent (summarize_wal switched on since): a full one.
            log.warning("incremental base backup %s on %s failed, taking a full one: %s", base.pk, parent.pk, error)
            shutil.rmtree(partial, ignore_errors=True)
            BaseBackup.objects.filter(pk=base.pk).update(parent=None)
            base.parent = None
            copied_at, base.first_segment = copy_verified(partial)
        os.replace(partial, final)
        stored, digest = basestore.seal(final)  # encrypted at rest when a key is set
    except (BackupError, OSError) as error:
        shutil.rmtree(partial, ignore_errors=True)
        shutil.rmtree(final, ignore_errors=True)
        return _finish(base, status=BaseBackup.Status.FAILED, error=str(error))
    files = [stored] if stored.is_file() else [path for path in stored.rglob("*") if path.is_file()]
    return _finish(
        base,
        status=BaseBackup.Status.GOOD,
        path=str(stored),
        size=sum(path.stat().st_size for path in files),
        first_segment=base.first_segment,
        sha256=digest,
        copy_location=basestore.second_copy(stored),
        finished_at=copied_at,
    )


def incremental_problem() -> str:
    """Why this server cannot take incremental base backups ("" when it can)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('server_version_num')::int, current_setting('summarize_wal', true)")
        version, summarize = cursor.fetchone()
    if version < 170000:
        return f"PostgreSQL {version // 10000} takes no incremental base backups (17 and later do): full ones only."
    if summarize != "on":
        return "summarize_wal is off, so base backups are full ones (set summarize_wal = on for incrementals)."
    return ""


def incremental_parent() -> BaseBackup | None:
    """The base backup an incremental one builds on: the newest good one, if the server can."""
    if incremental_problem():
        return None
    newest = BaseBackup.objects.filter(status=BaseBackup.Status.GOOD).order_by("-finished_at", "-id").first()
    return newest if newest is not None and basestore.manifest_of(newest.path).exists() else None


def copy_verified(target: Path, parent: BaseBackup | None = None) -> tuple[datetime, str]:
    """pg_basebackup into `target` (incremental on `parent`), checked with pg_verifybackup; returns
    the earliest moment the copy recovers to and the first WAL segment its recovery reads."""
    _copy_cluster(target, basestore.manifest_of(parent.path) if parent else None)
    copied_at = timezone.now()
    verify(target)
    return copied_at, _first_segment(target)


def _copy_cluster(target: Path, parent_manifest: Path | None = None) -> None:
    args, env = postgres.connection_args()
    args = args[: args.index("-d")]  # the whole cluster: no database (pg_basebackup's -d is a connection string)
    # -X none: the WAL comes from the archive, which the server fills before pg_basebackup returns.
    postgres.run(
        [
            postgres.binary("pg_basebackup"),
            "--pgdata",
            str(target),
            "--format=plain",
            "--wal-method=none",
            "--checkpoint=fast",
            "--manifest-checksums=SHA256",
            *([f"--incremental={parent_manifest}"] if parent_manifest else []),
            *args,
        ],
        env=env,
    )


def verify(target) -> None:
    """Every file against its checksum, and the WAL the copy needs present and readable in the archive."""
    env = postgres.connection_args()[1]
    with basestore.unpacked(target) as copy, tempfile.TemporaryDirectory(prefix="wal-", dir=copy.parent) as segments:
        wal.unpack(_needed_segments(copy), Path(segments))
        postgres.run([postgres.binary("pg_verifybackup"), "--quiet", f"--wal-directory={segments}", str(copy)], env=env)


def _needed_segments(target: Path) -> list[str]:
    """The WAL from the copy's start to its end (its manifest's WAL-Ranges), as segment names."""
    manifest = json.loads((target / "backup_manifest").read_text())
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_size_bytes(current_setting('wal_segment_size'))")
        (size,) = cursor.fetchone()
    names = []
    for wal_range in manifest["WAL-Ranges"]:
        names += wal.segments(wal_range["Timeline"], wal_range["Start-LSN"], wal_range["End-LSN"], size)
    return names


def _first_segment(target: Path) -> str:
    found = START_SEGMENT.search((target / "backup_label").read_text())
    if not found:
        raise BackupError("pg_basebackup wrote no start WAL location in backup_label")
    return found.group(1)


def _finish(base: BaseBackup, **values) -> BaseBackup:
    values.setdefault("finished_at", timezone.now())
    for name, value in values.items():
        setattr(base, name, value)
    good = base.status == BaseBackup.Status.GOOD
    if not good:
        log.error("base backup %s failed: %s", base.pk, base.error)
    with transaction.atomic():  # whoever sees it finished also sees its audit event
        base.save(update_fields=list(values))
        audit(
            AuditEvent.Action.BACKUP_CREATED if good else AuditEvent.Action.BACKUP_FAILED,
            object_type="base_backup",
            object_id=base.pk,
            detail={"kind": "physical", "size": base.size},
        )
    return base
