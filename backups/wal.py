"""The WAL archive: is the server archiving, how old is the newest segment (the data at risk
right now), and which moments can be recovered (the window)."""

from __future__ import annotations

import base64
import gzip
import shlex
import shutil
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.utils import timezone

from backups import crypto, walfetch
from backups.models import BaseBackup
from backups.postgres import BackupError

# `pitr_status` exits 1 when the newest archived segment is older than this (archive_timeout
# switches segments every 60 s, so a healthy server stays well under it).
STALE_AFTER = timedelta(minutes=5)


def archive_dir() -> Path:
    return Path(settings.WAL_ARCHIVE_DIR)


# Segments are archived gzip-compressed as <name>.gz (crm/devservices.py archive_command and
# docker-compose.yml write them so), and encrypted at rest as <name>.gz.enc when a backup key is
# set (backups/walcopy.py).
def restore_command() -> str:
    """The server's restore_command: a segment from the archive (decrypted by backups.walfetch with
    CRM_WAL_KEY from the server's environment), or a non-zero exit if it is not there."""
    source = shlex.quote(str(archive_dir() / "%f.gz"))
    sealed = shlex.quote(str(archive_dir() / "%f.gz.enc"))
    fetch = f"{shlex.quote(sys.executable)} -m backups.walfetch {sealed} %p"
    return f"if test -f {source}; then gunzip < {source} > %p; else test -f {sealed} && {fetch}; fi"


def restore_environment() -> dict[str, str]:
    """What the restore_command needs in the recovering server's environment."""
    key = crypto.configured_key()
    environment = {"PYTHONPATH": str(settings.BASE_DIR)}
    if key is not None:
        environment["CRM_WAL_KEY"] = base64.urlsafe_b64encode(key).decode()
    return environment


def unpack(names: list[str], into: Path) -> None:
    """Decompress (and decrypt) the named segments from the archive into `into` (BackupError names a missing one)."""
    for name in names:
        packed = archive_dir() / f"{name}.gz"
        sealed = archive_dir() / f"{name}.gz.enc"
        if packed.exists():
            with gzip.open(packed, "rb") as source, (into / name).open("wb") as target:
                shutil.copyfileobj(source, target, 1024 * 1024)
        elif sealed.exists():
            key = crypto.configured_key()
            if key is None:
                raise crypto.KeyProblem(f"WAL segment {name} is encrypted: set BACKUP_ENCRYPTION_KEY.")
            walfetch.fetch(sealed, into / name, key)
        else:
            raise BackupError(f"WAL segment {name} is missing from the archive ({archive_dir()}).")


def segments(timeline: int, start_lsn: str, end_lsn: str, segment_size: int) -> list[str]:
    """The names of the WAL segments holding start_lsn through end_lsn ("0/6000028" notation)."""
    per_id = 0x1_0000_0000 // segment_size
    first, last = (_lsn(value) // segment_size for value in (start_lsn, end_lsn))
    return [f"{timeline:08X}{number // per_id:08X}{number % per_id:08X}" for number in range(first, last + 1)]


def _lsn(text: str) -> int:
    high, low = text.split("/")
    return (int(high, 16) << 32) | int(low, 16)


@dataclass(frozen=True)
class ArchiveStatus:
    archiving: bool  # archive_mode is on
    last_archived_at: datetime | None
    last_failed_at: datetime | None
    now: datetime
    window_start: datetime | None  # the oldest moment a good base backup reaches back to

    @property
    def failing(self) -> bool:
        return self.last_failed_at is not None and (
            self.last_archived_at is None or self.last_failed_at > self.last_archived_at
        )

    @property
    def age(self) -> timedelta | None:
        """How long ago the newest segment was archived: what a lost disk would take with it."""
        return None if self.last_archived_at is None else self.now - self.last_archived_at

    @property
    def window_end(self) -> datetime | None:
        if not self.window_start or self.last_archived_at is None:
            return None
        return max(self.last_archived_at, self.window_start)

    @property
    def problem(self) -> str:
        """Why point-in-time recovery is not protecting the data right now ("" when it is)."""
        if not self.archiving:
            return "WAL archiving is off (archive_mode): point-in-time recovery is not possible."
        if self.failing:
            return f"WAL archiving is failing since {self.last_failed_at.isoformat()} (archive_command)."
        if self.age is None:
            return "No WAL segment has been archived yet."
        if self.age > STALE_AFTER:
            return f"The newest archived WAL segment is {int(self.age.total_seconds())} s old."
        if self.window_start is None:
            return "No good base backup yet: take one with `manage.py backup_now --physical`."
        return ""


def status() -> ArchiveStatus:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('archive_mode'), last_archived_time, last_failed_time, now() FROM pg_stat_archiver"
        )
        mode, archived, failed, now = cursor.fetchone()
    oldest = (
        BaseBackup.objects.filter(status=BaseBackup.Status.GOOD)
        .order_by("finished_at")
        .values_list("finished_at", flat=True)
        .first()
    )
    return ArchiveStatus(
        archiving=mode in ("on", "always"),
        last_archived_at=archived,
        last_failed_at=failed,
        now=now or timezone.now(),
        window_start=oldest,
    )
