"""Archived WAL under the backup rules: encrypted at rest with the backup key, a checksum beside
each segment, a second copy under BACKUP_COPY_TO checked after copying, and a recovering
server's restore_command that reads an encrypted segment back (backups/walcopy.py, walfetch)."""

import gzip
import os
import subprocess
import sys

import pytest

from backups import crypto, wal, walcopy
from backups.window import apply_window
from tests.backups.helpers import KEY

SEGMENT = "000000010000000000000007"
LATER = "000000010000000000000008"


@pytest.fixture
def archive(settings, tmp_path):
    settings.WAL_ARCHIVE_DIR = tmp_path / "wal"
    settings.WAL_ARCHIVE_DIR.mkdir()
    return settings.WAL_ARCHIVE_DIR


def archived(archive, name, body: bytes):
    """As archive_command leaves a segment: gzip-compressed, <name>.gz."""
    (archive / f"{name}.gz").write_bytes(gzip.compress(body))


def test_a_segment_is_encrypted_at_rest_with_its_checksum_and_read_back_by_the_restore_command(
    archive, settings, tmp_path
):
    settings.BACKUP_ENCRYPTION_KEY = KEY
    archived(archive, SEGMENT, b"wal " * 1000)

    assert walcopy.seal_archive().sealed == [f"{SEGMENT}.gz.enc"]

    assert sorted(path.name for path in archive.iterdir()) == [f"{SEGMENT}.gz.enc", f"{SEGMENT}.gz.enc.sha256"]
    sealed = archive / f"{SEGMENT}.gz.enc"
    assert crypto.is_encrypted(sealed) and b"wal wal" not in sealed.read_bytes()
    assert oct(sealed.stat().st_mode & 0o777) == "0o600"
    assert walcopy.verify_archive() == []
    assert walcopy.seal_archive().sealed == []  # once

    target = tmp_path / "pg_wal" / SEGMENT
    target.parent.mkdir()
    command = wal.restore_command().replace("%f", SEGMENT).replace("%p", str(target))
    environment = {"PATH": os.environ["PATH"], **wal.restore_environment()}
    subprocess.run(["sh", "-c", command], env=environment, check=True, cwd=tmp_path)
    assert target.read_bytes() == b"wal " * 1000
    missing = wal.restore_command().replace("%f", LATER).replace("%p", str(target.with_name(LATER)))
    assert subprocess.run(["sh", "-c", missing], env=environment).returncode != 0  # not archived yet
    wrong_key = {**environment, "CRM_WAL_KEY": KEY[::-1]}
    assert subprocess.run(["sh", "-c", command], env=wrong_key, capture_output=True).returncode != 0


def test_the_second_copy_holds_each_segment_with_its_checksum_and_a_changed_one_is_found(archive, settings, tmp_path):
    settings.BACKUP_COPY_TO = str(tmp_path / "offsite")
    archived(archive, SEGMENT, b"first")
    archived(archive, LATER, b"second")

    result = walcopy.seal_archive()

    copy = tmp_path / "offsite" / "wal"
    assert result.copied == 2 and result.problems == []
    assert (copy / f"{SEGMENT}.gz").read_bytes() == (archive / f"{SEGMENT}.gz").read_bytes()
    assert (copy / f"{SEGMENT}.gz.sha256").exists() and (copy / f"{LATER}.gz.sha256").exists()
    assert walcopy.seal_archive().copied == 0  # already there
    (copy / f"{LATER}.gz").write_bytes(b"changed")
    assert walcopy.verify_archive(copy) == [f"checksum differs: {copy / f'{LATER}.gz'}"]


def test_pruning_removes_sealed_segments_and_their_copies_like_plain_ones(archive, settings, tmp_path, db):
    from datetime import timedelta

    from django.utils import timezone

    from backups.models import BaseBackup

    settings.BACKUP_ENCRYPTION_KEY = KEY
    settings.BACKUP_COPY_TO = str(tmp_path / "offsite")
    archived(archive, SEGMENT, b"old")
    archived(archive, LATER, b"needed")
    walcopy.seal_archive()
    for days, first in ((30, SEGMENT), (20, LATER)):  # the newer reaches back to the window's start
        BaseBackup.objects.create(
            status=BaseBackup.Status.GOOD,
            started_at=timezone.now() - timedelta(days=days),
            finished_at=timezone.now() - timedelta(days=days),
            path=str(tmp_path / f"base-{days}"),
            first_segment=first,
        )

    apply_window(days=14)

    for directory in (archive, tmp_path / "offsite" / "wal"):
        assert sorted(path.name for path in directory.iterdir()) == [f"{LATER}.gz.enc", f"{LATER}.gz.enc.sha256"]


def test_walfetch_needs_its_arguments():
    done = subprocess.run([sys.executable, "-m", "backups.walfetch"], capture_output=True, text=True)
    assert done.returncode == 2 and "usage" in done.stderr
