"""Backup files: private on disk, checked against their checksum, encrypted at rest when a key is set,
copied a second time (BACKUP_COPY_TO), and read back as a plain dump (`readable`) for restores and drills.

A backup's files are `crm-<time>-<id>.dump` and `.json` (its manifest) in BACKUP_DIR, mode
0600 in a 0700 directory, and the same names under BACKUP_COPY_TO. The recorded sha256 is
of the stored file (encrypted or not). A backup no copy of which matches its checksum is
marked bad at once (`mark_bad`) and is never restored from or counted by retention again.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import secrets
import shutil
import subprocess
from contextlib import ExitStack, contextmanager
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from audit.events import record_system
from audit.models import AuditEvent
from backups import crypto, postgres
from backups.models import Backup
from backups.postgres import BackupError

log = logging.getLogger(__name__)
CHUNK = 1024 * 1024
OUR_FILES = re.compile(r"^crm-[0-9TZ]+-[0-9]+\.(dump|json)$")
PLAIN_PREFIX = ".plain-"  # a decrypted copy, for as long as a restore or drill reads it


class Unusable(Exception):
    """This copy of the backup does not match its checksum (the message says how)."""


def backup_dir() -> Path:
    return Path(settings.BACKUP_DIR)


def private_directory(path: Path) -> Path:
    """`path`, created if need be, readable by this user only (tightened if it already existed)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def private_file(path: Path):
    """A new empty file only this user can read, opened for binary writing."""
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb")


def is_ours(path: Path) -> bool:
    """A file backups made (a dump or manifest in BACKUP_DIR or BACKUP_COPY_TO): the only kind deleted."""
    homes = [backup_dir().resolve()] + ([Path(copy_target()).resolve()] if copy_directory() else [])
    return bool(OUR_FILES.match(path.name)) and path.resolve().parent in homes


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


def problem(path: Path, backup: Backup) -> str:
    """Why the file at `path` is not `backup`'s stored file ("" when it is)."""
    try:
        digest, size = sha256_of(path)
    except FileNotFoundError:
        return f"file missing: {path}"
    except OSError as error:
        return f"cannot read {path}: {error.strerror or error}"
    if digest != backup.sha256 or (backup.size is not None and size != backup.size):
        return f"checksum differs: {path} ({size} bytes, sha256 {digest[:12]}…, recorded {backup.sha256[:12]}…)"
    return ""


# -- encryption at rest ------------------------------------------------------------------


def seal(plain: Path, stored: Path) -> tuple[str, int]:
    """Write `plain` to `stored` as it is kept (encrypted when a key is set); returns its (sha256, size)."""
    key = crypto.configured_key()
    if key is None:
        os.replace(plain, stored)
        return sha256_of(stored)
    with plain.open("rb") as source, private_file(stored) as target:
        result = crypto.encrypt(source, target, key)
    plain.unlink()
    return result


@contextmanager
def _temporary(directory: Path):
    """A private temporary file name, claimed for this process (backups.sweep deletes it if we die)."""
    path = directory / f"{PLAIN_PREFIX}{secrets.token_hex(8)}.dump"
    with postgres.claim(path.name):
        try:
            yield path
        finally:
            path.unlink(missing_ok=True)


@contextmanager
def _plain(path: Path, backup: Backup):
    """`path` as a plain dump, after checking it against `backup`'s checksum (Unusable if it does not match)."""
    try:
        encrypted = crypto.is_encrypted(path)
    except OSError:
        encrypted = False  # problem() says what is wrong with it
    if not encrypted:
        reason = problem(path, backup)
        if reason:
            raise Unusable(reason)
        yield path
        return
    key = crypto.configured_key()
    if key is None:
        raise crypto.KeyProblem(f"Backup {backup.pk} is encrypted: set BACKUP_ENCRYPTION_KEY to restore it.")
    with _temporary(private_directory(backup_dir())) as plain:
        try:
            with path.open("rb") as source, private_file(plain) as target:
                digest = crypto.decrypt(source, target, key)
        except BackupError as error:
            if not problem(path, backup):  # the file is intact: the key is wrong
                raise crypto.KeyProblem(str(error)) from None
            raise Unusable(f"{path}: {error}") from None
        if digest != backup.sha256:
            raise Unusable(f"checksum differs: {path}")
        yield plain


@contextmanager
def readable(backup: Backup):
    """A plain dump file of `backup` that matches its checksum: its own file, else its second copy.

    With neither usable, the backup is marked bad and BackupError raised.
    """
    problems = []
    for location in (backup.path, backup.copy_location):
        if not location:
            continue
        stack = ExitStack()
        try:
            local = stack.enter_context(_fetched(location))
            plain = stack.enter_context(_plain(local, backup))
        except Unusable as error:
            stack.close()
            problems.append(str(error))
            continue
        except BaseException:
            stack.close()
            raise
        with stack:
            if problems:
                log.warning("backup %s: %s; reading the copy at %s", backup.pk, problems[0], location)
            yield plain
            return
    reason = "; ".join(problems) or "no file recorded"
    mark_bad(backup, reason)
    raise BackupError(f"Backup {backup.pk} failed verification: {reason}")


def present(backup: Backup) -> bool:
    """Whether a file of `backup` is there to read (its own, or the second copy)."""
    locations = (backup.path, backup.copy_location)
    return any(location and (is_remote(location) or Path(location).exists()) for location in locations)


def location_problems(backup: Backup):
    """(location, why its file does not match `backup`'s checksum, "" when it does) for each of its files."""
    for location in (backup.path, backup.copy_location):
        if location:
            yield location, remote_problem(location, backup) if is_remote(location) else problem(Path(location), backup)


def verify(backup: Backup) -> str:
    """Why no copy of `backup` matches its checksum ("" when one does). Reads, decrypts nothing."""
    problems = []
    for _location, reason in location_problems(backup):
        if not reason:
            return ""
        problems.append(reason)
    return "; ".join(problems) or "no file recorded"


def mark_bad(backup: Backup, reason: str) -> bool:
    """Record that `backup` failed verification (once: a backup already bad or pruned stays as it is)."""
    now = timezone.now()
    changed = Backup.objects.filter(pk=backup.pk, status=Backup.Status.GOOD).update(
        status=Backup.Status.BAD, error=reason, checked_at=now
    )
    backup.status, backup.error, backup.checked_at = Backup.Status.BAD, reason, now
    if changed:
        log.error("backup %s failed verification: %s", backup.pk, reason)
        record_system(AuditEvent.Action.BACKUP_CHECKED, target=backup, detail={"passed": False, "reason": reason})
    return bool(changed)


# -- the second copy (BACKUP_COPY_TO: a directory, or an rclone remote "name:path") ----------


def copy_target() -> str:
    return settings.BACKUP_COPY_TO or ""


def is_remote(location: str) -> bool:
    return bool(re.match(r"^[A-Za-z0-9_.-]+:", location)) and not Path(location).is_absolute()


def copy_directory() -> bool:
    return bool(copy_target()) and not is_remote(copy_target())


def copy_out(backup: Backup) -> str:
    """Copy `backup`'s dump and manifest to BACKUP_COPY_TO, check the copy; returns where it is."""
    target, dump = copy_target(), Path(backup.path)
    if is_remote(target):
        destination = f"{target.rstrip('/')}/{dump.name}"
        for path, remote in ((dump, destination), (dump.with_suffix(".json"), destination[:-5] + ".json")):
            _rclone("copyto", str(path), remote)
    else:
        directory = private_directory(Path(target))
        for path in (dump, dump.with_suffix(".json")):
            partial = directory / f".{path.name}.partial"
            with path.open("rb") as source, private_file(partial) as copy:
                shutil.copyfileobj(source, copy, CHUNK)
            fsync_file(partial)
            os.replace(partial, directory / path.name)
        fsync_file(directory)
        destination = str(directory / dump.name)
    reason = remote_problem(destination, backup) if is_remote(destination) else problem(Path(destination), backup)
    if reason:
        raise BackupError(f"The copy does not match: {reason}")
    return destination


def delete_files(backup: Backup) -> None:
    """Delete the files of `backup` that backups made (its dump and manifest, and their copies)."""
    for location in (backup.path, backup.copy_location):
        if location and is_remote(location):
            _rclone("deletefile", location)
            _rclone("deletefile", location[:-5] + ".json")
        elif location and is_ours(Path(location)):
            for path in (Path(location), Path(location).with_suffix(".json")):
                path.unlink(missing_ok=True)
        elif location:
            log.warning("backup %s: not deleting %s, which backups did not make", backup.pk, location)


def _rclone(*args: str) -> subprocess.CompletedProcess:
    rclone = shutil.which("rclone")
    if not rclone:
        raise BackupError("BACKUP_COPY_TO names an rclone remote, but rclone is not installed.")
    return postgres.run([rclone, *args])


def remote_problem(location: str, backup: Backup) -> str:
    try:
        output = _rclone("hashsum", "sha256", location).stdout.split()
    except BackupError as error:
        return f"cannot read {location}: {error}"
    if not output or output[0] != backup.sha256:
        return f"checksum differs: {location}"
    return ""


@contextmanager
def _fetched(location: str):
    """A local path with the contents of `location` (a remote copy is downloaded to a private temporary file)."""
    if not is_remote(location):
        yield Path(location)
        return
    with _temporary(private_directory(backup_dir())) as local:
        try:
            _rclone("copyto", location, str(local))
        except BackupError as error:
            raise Unusable(f"cannot read {location}: {error}") from None
        yield local
