"""Archived WAL under the backup rules (a job every minute, tasks.copy_wal_archive).

The server's archive_command writes each finished segment as <name>.gz (crm/devservices.py,
docker-compose.yml). Once, for each such file:
- with BACKUP_ENCRYPTION_KEY set, it is encrypted at rest as <name>.gz.enc (backups/crypto.py,
  the same key and format as the dumps) and the plain file removed; recovery reads it back through
  `python -m backups.walfetch` in the restore_command (backups/wal.py);
- its checksum is written beside it (<stored name>.sha256), mode 0600;
- with BACKUP_COPY_TO set, it is copied to <BACKUP_COPY_TO>/wal/ with its checksum, and the copy
  read back and compared (a directory), or `rclone check`ed (a remote).
`verify_archive` reads every stored segment against its checksum (the hourly check).
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from backups import crypto, storage, wal
from backups.postgres import BackupError

log = logging.getLogger(__name__)
# What archive_command leaves: a segment, a backup label or a timeline history, gzip-compressed.
PLAIN = re.compile(r"^[0-9A-F]{8}(?:[0-9A-F]{16}(?:\.[0-9A-F]{8}\.backup)?|\.history)\.gz$")
CHECKSUM = ".sha256"


@dataclass
class Sealed:
    sealed: list[str] = field(default_factory=list)
    copied: int = 0
    problems: list[str] = field(default_factory=list)


def copy_dir() -> str:
    """Where the second copy of the archive goes ("" when BACKUP_COPY_TO is not set)."""
    target = storage.copy_target()
    return f"{target.rstrip('/')}/wal" if target else ""


def seal_archive() -> Sealed:
    result = Sealed()
    directory = wal.archive_dir()
    if not directory.is_dir():  # this installation does not archive here
        return result
    key = crypto.configured_key()
    for path in sorted(directory.iterdir()):
        if PLAIN.match(path.name) and not _checksum_file(path).exists():
            try:
                result.sealed.append(_seal(path, key).name)
            except (BackupError, OSError) as error:
                result.problems.append(f"{path.name}: {error}")
    target = copy_dir()
    if target:
        try:
            result.copied = _copy(directory, target)
        except (BackupError, OSError) as error:
            result.problems.append(f"second copy to {target}: {error}")
    for problem in result.problems:
        log.error("WAL archive: %s", problem)
    return result


def stored_segments(directory: Path) -> list[Path]:
    """The archived files that have their checksum (the sealed ones)."""
    return sorted(path for path in directory.iterdir() if _checksum_file(path).exists())


def verify_archive(directory: Path | None = None) -> list[str]:
    """Why any sealed file of the archive (or of `directory`, its copy) does not match its checksum."""
    directory = directory or wal.archive_dir()
    problems = []
    for path in stored_segments(directory):
        recorded = _checksum_file(path).read_text().split()[0]
        digest, _size = storage.sha256_of(path)
        if digest != recorded:
            problems.append(f"checksum differs: {path}")
    return problems


def _checksum_file(path: Path) -> Path:
    return path.with_name(path.name + CHECKSUM)


def _seal(path: Path, key: bytes | None) -> Path:
    stored = path
    if key is not None:
        stored = path.with_name(path.name + ".enc")
        partial = path.with_name(f".{stored.name}.partial")
        partial.unlink(missing_ok=True)
        with path.open("rb") as source, storage.private_file(partial) as target:
            crypto.encrypt(source, target, key)
        storage.fsync_file(partial)
        os.replace(partial, stored)
    digest, _size = storage.sha256_of(stored)
    checksum = _checksum_file(stored)
    partial = checksum.with_name(f".{checksum.name}.partial")
    partial.unlink(missing_ok=True)
    with storage.private_file(partial) as handle:
        handle.write(f"{digest}  {stored.name}\n".encode())
    os.replace(partial, checksum)
    if stored != path:
        path.unlink()  # only once its encrypted copy and checksum are in place
    return stored


def _copy(directory: Path, target: str) -> int:
    if storage.is_remote(target):
        storage._rclone("copy", str(directory), target, "--exclude", ".*", "--exclude", "*.part")
        storage._rclone("check", "--one-way", str(directory), target, "--exclude", ".*", "--exclude", "*.part")
        return 0
    copy = storage.private_directory(Path(target))
    copied = 0
    for path in stored_segments(directory):
        if (copy / _checksum_file(path).name).exists():  # its checksum goes last: copied and checked
            continue
        for source in (path, _checksum_file(path)):
            destination = copy / source.name
            partial = copy / f".{source.name}.partial"
            partial.unlink(missing_ok=True)
            with source.open("rb") as reading, storage.private_file(partial) as writing:
                shutil.copyfileobj(reading, writing, storage.CHUNK)
            storage.fsync_file(partial)
            os.replace(partial, destination)
            if source == path and storage.sha256_of(destination)[0] != _checksum_file(path).read_text().split()[0]:
                destination.unlink()
                raise BackupError(f"the copy of {path.name} does not match its checksum")
        copied += 1
    storage.fsync_file(copy)
    return copied
