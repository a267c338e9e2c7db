"""Base backups at rest, under the backup rules (backups/storage.py does the same for dumps):

- private: mode 0700 directories (0600 files) under BACKUP_DIR/base;
- a checksum: the sha256 of its backup_manifest, which holds the sha256 of every file of the
  copy (pg_verifybackup checks them against it);
- with BACKUP_ENCRYPTION_KEY set, the copy is kept as one encrypted tar, <name>.tar.enc
  (backups/crypto.py: the same key and format as the dumps), and unpacked when used;
- with BACKUP_COPY_TO set, a second copy under <BACKUP_COPY_TO>/base/, checked after copying
  (pg_verifybackup on a directory, `rclone check` on a remote); a failed copy leaves the base
  backup good without one.
"""

from __future__ import annotations

import logging
import os
import shutil
import tarfile
import tempfile
from contextlib import contextmanager
from pathlib import Path

from backups import crypto, postgres, storage
from backups.postgres import BackupError

log = logging.getLogger(__name__)
SEALED = ".tar.enc"


def seal(directory: Path) -> tuple[Path, str]:
    """Keep the verified copy in `directory` as it is stored: (its path, the manifest's sha256)."""
    digest, _size = storage.sha256_of(directory / "backup_manifest")
    key = crypto.configured_key()
    if key is None:
        return directory, digest
    stored = directory.with_name(directory.name + SEALED)
    # The manifest stays readable beside it (file names, sizes and checksums; no data): the next
    # incremental base backup is taken against it.
    with storage.private_file(manifest_of(stored)) as handle:
        handle.write((directory / "backup_manifest").read_bytes())
    with tempfile.TemporaryFile(dir=directory.parent) as packed:
        with tarfile.open(fileobj=packed, mode="w") as tar:
            tar.add(directory, arcname=".")
        packed.seek(0)
        partial = stored.with_name(f".{stored.name}.partial")
        partial.unlink(missing_ok=True)
        with storage.private_file(partial) as target:
            crypto.encrypt(packed, target, key)
    storage.fsync_file(partial)
    os.replace(partial, stored)
    shutil.rmtree(directory)
    return stored, digest


def manifest_of(path) -> Path:
    """The backup_manifest of the base backup stored at `path` (inside it, or beside it when encrypted)."""
    path = Path(path)
    return path.with_name(path.name + ".manifest") if path.name.endswith(SEALED) else path / "backup_manifest"


@contextmanager
def unpacked(path, into: Path | None = None):
    """The base backup at `path` as a plain directory: itself, or, encrypted, unpacked into `into`
    (a new temporary directory beside it when not given, removed afterwards)."""
    path = Path(path)
    if not path.name.endswith(SEALED):
        if not path.is_dir():
            raise BackupError(f"The base backup is missing: {path}")
        yield path
        return
    key = crypto.configured_key()
    if key is None:
        raise crypto.KeyProblem(f"The base backup {path.name} is encrypted: set BACKUP_ENCRYPTION_KEY.")
    temporary = None if into is not None else tempfile.mkdtemp(prefix=".unpacked-", dir=path.parent)
    target = into or Path(temporary)
    try:
        with tempfile.TemporaryFile(dir=path.parent) as packed:
            with path.open("rb") as source:
                crypto.decrypt(source, packed, key)
            packed.seek(0)
            with tarfile.open(fileobj=packed, mode="r") as tar:
                tar.extractall(target, filter="tar")
        yield target
    finally:
        if temporary:
            shutil.rmtree(temporary, ignore_errors=True)


def copy_out(path: Path) -> str:
    """The second copy of the base backup at `path` under BACKUP_COPY_TO/base, checked; returns where."""
    target = storage.copy_target()
    if storage.is_remote(target):
        destination = f"{target.rstrip('/')}/base/{path.name}"
        verb = "copyto" if path.is_file() else "copy"
        storage._rclone(verb, str(path), destination)
        if path.is_dir():
            storage._rclone("check", str(path), destination)
        return destination
    home = storage.private_directory(Path(target) / "base")
    destination = home / path.name
    partial = home / f".{path.name}.partial"
    shutil.rmtree(partial, ignore_errors=True) if partial.is_dir() else partial.unlink(missing_ok=True)
    if path.is_dir():
        shutil.copytree(path, partial, symlinks=True)
        os.chmod(partial, 0o700)
        postgres.run([postgres.binary("pg_verifybackup"), "--quiet", "--no-parse-wal", str(partial)])
    else:
        shutil.copyfile(path, partial)
        os.chmod(partial, 0o600)
        if storage.sha256_of(partial)[0] != storage.sha256_of(path)[0]:
            raise BackupError(f"The copy of {path.name} does not match the original.")
    os.replace(partial, destination)
    storage.fsync_file(home)
    return str(destination)


def second_copy(path: Path) -> str:
    """Where the second copy went ("" when none is configured or copying failed)."""
    if not storage.copy_target():
        return ""
    try:
        return copy_out(path)
    except (BackupError, OSError) as error:
        log.error("base backup %s: the second copy failed: %s", path.name, error)
        return ""


def remove(path: str, copy: str = "") -> None:
    """Delete a base backup's files (its directory or encrypted tar) and its second copy if local."""
    for location in (path, copy):
        if not location or storage.is_remote(location):
            continue
        target = Path(location)
        if target.is_dir():
            shutil.rmtree(target, ignore_errors=True)
        else:
            target.unlink(missing_ok=True)
            manifest_of(target).unlink(missing_ok=True)
