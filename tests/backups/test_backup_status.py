"""A backup's status tells the truth: a file that fails verification makes the backup bad at once
(never restored, never counted by retention); files are private, encrypted at rest with a key, and
copied a second time; the hourly check and `manage.py check_backups` watch them."""

import base64
import os
import shutil
import stat
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from audit.models import AuditEvent, SystemEvent
from backups import crypto, postgres
from backups.actions import unrestorable
from backups.api.serializers import backup_data
from backups.drills import drill
from backups.dump import take_backup
from backups.models import Backup, RestoreDrill
from backups.restore import good_backup, restore_database
from backups.retention import Policy, apply_retention
from backups.storage import sha256_of
from tests.backups.helpers import KEY, good_backup_file
from tests.conftest import login
from tests.factories import make_member, make_tenant

pytestmark = pytest.mark.django_db(transaction=True)


def corrupt(path: Path) -> None:
    """Flip one byte in the middle of the file, as a bad disk would."""
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def assert_not_restorable(backup):
    backup.refresh_from_db()
    assert backup.status == Backup.Status.BAD
    assert backup.checked_at is not None
    with pytest.raises(postgres.BackupError):
        good_backup(backup.pk)
    assert "failed verification" in unrestorable(backup, in_place=True)
    assert backup_data(backup, staff=True, admin=True)["restore_options"] == []


# -- bad at once --------------------------------------------------------------------------


def test_a_corrupt_backup_fails_its_drill_and_is_bad_at_once(company):
    backup = take_backup()
    corrupt(Path(backup.path))
    result = drill(backup)
    assert result.passed is False and "checksum differs" in result.error
    assert_not_restorable(backup)
    assert "checksum differs" in backup.error
    assert SystemEvent.objects.filter(action=AuditEvent.Action.BACKUP_CHECKED, object_id=str(backup.pk)).exists()


def test_a_passing_drill_records_the_check_and_leaves_the_backup_good(company):
    backup = take_backup()
    assert drill(backup).passed
    backup.refresh_from_db()
    assert backup.status == Backup.Status.GOOD and backup.checked_at is not None


def test_the_check_marks_missing_changed_and_unreadable_files_bad_and_exits_2(backup_dir, capsys):
    now = timezone.now()
    intact, missing, changed, unreadable = (good_backup_file(backup_dir, now - timedelta(hours=n)) for n in range(4))
    Path(missing.path).unlink()
    corrupt(Path(changed.path))
    Path(unreadable.path).unlink()
    Path(unreadable.path).mkdir()  # reading it fails (chmod would not stop root)

    with pytest.raises(CommandError) as failure:
        call_command("check_backups")
    assert failure.value.returncode == 2
    assert str(failure.value) == "3 of 4 backups failed verification"
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == ["BAD"] * 3

    assert "file missing" in Backup.objects.get(pk=missing.pk).error
    assert "checksum differs" in Backup.objects.get(pk=changed.pk).error
    assert "cannot read" in Backup.objects.get(pk=unreadable.pk).error
    for backup in (missing, changed, unreadable):
        assert_not_restorable(backup)
    intact.refresh_from_db()
    assert intact.status == Backup.Status.GOOD and intact.checked_at is not None
    summary = SystemEvent.objects.filter(action=AuditEvent.Action.BACKUP_CHECKED, object_id="").get()
    assert sorted(summary.detail["bad"]) == sorted([missing.pk, changed.pk, unreadable.pk])

    call_command("check_backups")  # the bad ones are not checked again
    assert capsys.readouterr().out.strip() == "OK: 1 backups checked"


def test_the_check_runs_every_hour(settings):
    entries = {entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    schedule = entries["backups.tasks.check_backups"]
    assert len(schedule.hour) == 24 and len(schedule.minute) == 1


# -- retention ---------------------------------------------------------------------------


def test_retention_counts_only_intact_backups_and_keeps_the_newest_drilled_one(backup_dir):
    now = timezone.now()
    oldest, drilled, intact, corrupted = (good_backup_file(backup_dir, now - timedelta(days=n)) for n in (3, 2, 1, 0))
    RestoreDrill.objects.create(backup=drilled, started_at=now, finished_at=now, passed=True)
    corrupt(Path(corrupted.path))

    pruned = apply_retention(Policy(daily=1, weekly=0, monthly=0, newest=1))

    assert pruned == [oldest.pk]
    statuses = dict(Backup.objects.values_list("pk", "status"))
    assert statuses == {
        oldest.pk: Backup.Status.PRUNED,
        drilled.pk: Backup.Status.GOOD,
        intact.pk: Backup.Status.GOOD,
        corrupted.pk: Backup.Status.BAD,
    }
    assert Path(corrupted.path).exists()  # kept for inspection
    assert not Path(oldest.path).exists() and not Path(oldest.path).with_suffix(".json").exists()


def test_safety_backups_outlive_the_bin_retention_and_any_legal_hold(backup_dir):
    make_tenant("short", retention_days=7)
    holder = make_tenant("long", retention_days=30)
    now = timezone.now()
    recent = good_backup_file(backup_dir, now - timedelta(days=20), kind=Backup.Kind.PRE_RESTORE)
    old = good_backup_file(backup_dir, now - timedelta(days=40), kind=Backup.Kind.PRE_RESTORE)
    for days in (2, 1, 0):
        good_backup_file(backup_dir, now - timedelta(days=days))
    policy = Policy(daily=1, weekly=0, monthly=0, newest=1)

    holder.legal_hold = True
    holder.save()
    apply_retention(policy)
    assert Backup.objects.filter(kind=Backup.Kind.PRE_RESTORE, status=Backup.Status.GOOD).count() == 2

    holder.legal_hold = False
    holder.save()
    apply_retention(policy)
    assert Backup.objects.get(pk=recent.pk).status == Backup.Status.GOOD  # younger than 30 days
    assert Backup.objects.get(pk=old.pk).status == Backup.Status.PRUNED


def test_retention_deletes_only_files_backups_made(backup_dir, tmp_path):
    precious = tmp_path / "precious.dump"
    precious.write_bytes(b"not ours")
    precious.with_suffix(".json").write_text("{}")
    digest, _size = sha256_of(precious)
    Backup.objects.create(
        started_at=timezone.now() - timedelta(days=5), status=Backup.Status.GOOD, path=str(precious), sha256=digest
    )
    good_backup_file(backup_dir, timezone.now())
    apply_retention(Policy(daily=1, weekly=0, monthly=0, newest=1))
    assert precious.exists() and precious.with_suffix(".json").exists()


# -- private, encrypted, copied -----------------------------------------------------------


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_backup_files_are_private_even_in_an_existing_open_directory(company, backup_dir, tmp_path, settings):
    backup_dir.mkdir(mode=0o755)
    os.chmod(backup_dir, 0o755)
    settings.BACKUP_COPY_TO = str(tmp_path / "copies")
    backup = take_backup()
    assert backup.status == Backup.Status.GOOD, backup.error
    dump = Path(backup.path)
    copy = Path(backup.copy_location)
    assert mode(backup_dir) == mode(copy.parent) == 0o700
    for path in (dump, dump.with_suffix(".json"), copy, copy.with_suffix(".json")):
        assert mode(path) == 0o600, path


def test_with_a_key_backups_are_encrypted_and_restore_transparently(company, backup_dir, settings):
    settings.BACKUP_ENCRYPTION_KEY = KEY
    backup = take_backup()
    assert backup.status == Backup.Status.GOOD, backup.error
    stored = Path(backup.path)
    head = stored.read_bytes()[:64]
    assert head.startswith(crypto.MAGIC) and b"PGDMP" not in head
    assert sha256_of(stored) == (backup.sha256, backup.size)  # the checksum covers what is stored
    assert backup.manifest["encrypted"] is True

    assert drill(backup).passed
    target = f"crm_test_enc_{os.getpid()}"
    postgres.drop_database(target)
    try:
        assert restore_database(backup, target).status == "done"
    finally:
        postgres.drop_database(target)
    assert not list(backup_dir.glob(".plain-*"))  # no decrypted copy left


def test_a_wrong_key_fails_the_drill_but_does_not_make_an_intact_backup_bad(company, settings):
    settings.BACKUP_ENCRYPTION_KEY = KEY
    backup = take_backup()
    settings.BACKUP_ENCRYPTION_KEY = base64.urlsafe_b64encode(b"x" * 32).decode()
    result = drill(backup)
    assert result.passed is False and "not the key it was written with" in result.error
    backup.refresh_from_db()
    assert backup.status == Backup.Status.GOOD


def test_an_encrypted_backup_cut_short_is_bad(company, settings):
    settings.BACKUP_ENCRYPTION_KEY = KEY
    backup = take_backup()
    path = Path(backup.path)
    path.write_bytes(path.read_bytes()[:-100])
    assert drill(backup).passed is False
    assert_not_restorable(backup)


@pytest.mark.parametrize("key", ["short", "!" * 44])
def test_a_malformed_key_fails_the_backup_with_one_clear_reason(company, settings, key):
    settings.BACKUP_ENCRYPTION_KEY = key
    backup = take_backup()
    assert backup.status == Backup.Status.FAILED
    assert backup.error == "The backup encryption key must be 32 bytes in URL-safe base64 (44 characters)."


def test_the_key_can_come_from_a_file(company, settings, tmp_path):
    key_file = tmp_path / "backup.key"
    key_file.write_text(KEY + "\n")
    settings.BACKUP_ENCRYPTION_KEY_FILE = str(key_file)
    backup = take_backup()
    assert Path(backup.path).read_bytes().startswith(crypto.MAGIC)
    assert drill(backup).passed


def test_a_second_copy_is_made_shown_and_used_when_the_file_is_gone(company, settings, tmp_path, capsys):
    settings.BACKUP_COPY_TO = str(tmp_path / "elsewhere")
    settings.BACKUP_ENCRYPTION_KEY = KEY
    backup = take_backup()
    copy = Path(backup.copy_location)
    assert copy.parent == tmp_path / "elsewhere" and sha256_of(copy) == (backup.sha256, backup.size)
    assert backup_data(backup, staff=True, admin=False)["copy_location"] == str(copy)
    assert backup_data(backup, staff=False, admin=True)["copy_location"] is None

    Path(backup.path).unlink()  # the primary volume is gone
    assert good_backup(backup.pk) == backup
    assert drill(backup).passed
    call_command("check_backups")
    assert capsys.readouterr().out.startswith(f"DAMAGED: backup {backup.pk}: file missing")
    backup.refresh_from_db()
    assert backup.status == Backup.Status.GOOD

    corrupt(copy)
    with pytest.raises(CommandError):
        call_command("check_backups")
    assert_not_restorable(backup)


@pytest.fixture
def rclone_remote(monkeypatch, tmp_path):
    """An rclone remote named "offsite" (rclone's local backend, configured from the environment)."""
    if not shutil.which("rclone"):
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true and rclone is not installed (apt-get install rclone)", pytrace=False)
        pytest.skip("rclone is not installed: the rclone copy test not run (apt-get install rclone)")
    monkeypatch.setenv("RCLONE_CONFIG_OFFSITE_TYPE", "local")
    return f"offsite:{tmp_path / 'remote'}", tmp_path / "remote"


def test_the_second_copy_can_go_to_an_rclone_remote(company, settings, rclone_remote):
    settings.BACKUP_COPY_TO, underneath = rclone_remote
    backup = take_backup()
    assert backup.copy_location == f"{settings.BACKUP_COPY_TO}/{Path(backup.path).name}"
    stored = underneath / Path(backup.path).name
    assert sha256_of(stored) == (backup.sha256, backup.size)

    Path(backup.path).unlink()  # the primary volume is gone: drills and restores use the remote copy
    assert good_backup(backup.pk) == backup
    assert drill(backup).passed

    corrupt(stored)
    with pytest.raises(CommandError):
        call_command("check_backups")
    assert_not_restorable(backup)


def test_the_check_makes_a_missing_second_copy(company, settings, tmp_path):
    backup = take_backup()
    assert backup.copy_location == ""
    settings.BACKUP_COPY_TO = str(tmp_path / "later")
    call_command("check_backups")
    backup.refresh_from_db()
    assert sha256_of(Path(backup.copy_location)) == (backup.sha256, backup.size)


def test_the_staff_page_shows_the_check_and_the_copy(company, settings, tmp_path):
    settings.BACKUP_COPY_TO = str(tmp_path / "shown")
    backup = take_backup()
    call_command("check_backups")
    operator = make_member(company, "operator", role="viewer")
    operator.is_staff = True
    operator.save(update_fields=["is_staff"])
    page = login(operator).get("/backups/").content.decode()
    assert backup.copy_location in page and 'data-testid="backup-checked"' in page
