"""Pruning the point-in-time window: what the oldest moment in it needs always stays."""

from datetime import timedelta

import pytest
from django.utils import timezone

from backups.models import BaseBackup
from backups.window import apply_window

pytestmark = pytest.mark.django_db

NOW = timezone.now()


@pytest.fixture
def archive(settings, tmp_path):
    settings.WAL_ARCHIVE_DIR = tmp_path / "wal"
    settings.PITR_WINDOW_DAYS = 14
    settings.WAL_ARCHIVE_DIR.mkdir()
    return settings.WAL_ARCHIVE_DIR


def segment(number: int, timeline: int = 1) -> str:
    return f"{timeline:08X}{number // 256:08X}{number % 256:08X}"


def archived(archive, *names):
    for name in names:
        (archive / name).write_bytes(b"wal")


def base_backup(tmp_path, days_ago: int, first: int) -> BaseBackup:
    path = tmp_path / f"base-{days_ago}"
    path.mkdir()
    (path / "backup_label").write_text("label")
    return BaseBackup.objects.create(
        status=BaseBackup.Status.GOOD,
        started_at=NOW - timedelta(days=days_ago),
        finished_at=NOW - timedelta(days=days_ago),
        path=str(path),
        first_segment=segment(first),
    )


def test_the_newest_base_backup_before_the_window_stays_with_every_segment_from_its_first(archive, tmp_path):
    oldest, reaching, inside = (
        base_backup(tmp_path, 30, 10),
        base_backup(tmp_path, 20, 20),
        base_backup(tmp_path, 3, 30),
    )
    archived(archive, *(f"{segment(n)}.gz" for n in range(5, 35)), f"{segment(20)}.00000028.backup.gz")
    archived(archive, "00000002.history.gz", f"{segment(12, timeline=2)}.gz")

    pruned = apply_window()

    assert pruned.base_backups == [oldest.pk]
    assert BaseBackup.objects.get(pk=oldest.pk).status == BaseBackup.Status.PRUNED
    assert not (tmp_path / "base-30").exists() and (tmp_path / "base-20").exists() and (tmp_path / "base-3").exists()
    left = sorted(path.name for path in archive.iterdir())
    assert left == sorted(
        [f"{segment(n)}.gz" for n in range(20, 35)] + [f"{segment(20)}.00000028.backup.gz", "00000002.history.gz"]
    ), "segments before the 20th go (on any timeline); the timeline history stays"
    assert pruned.segments == 15 + 1
    assert {reaching.pk, inside.pk} <= set(BaseBackup.objects.filter(status="good").values_list("pk", flat=True))


def test_nothing_goes_while_a_company_is_on_legal_hold(archive, tmp_path, tenant):
    tenant.legal_hold = True
    tenant.save(update_fields=["legal_hold"])
    base_backup(tmp_path, 40, 1)
    base_backup(tmp_path, 30, 5)
    archived(archive, *(f"{segment(n)}.gz" for n in range(1, 10)))

    assert apply_window().base_backups == []
    assert len(list(archive.iterdir())) == 9 and BaseBackup.objects.filter(status="good").count() == 2


def test_an_incremental_in_the_window_keeps_its_whole_chain_and_the_chains_wal(archive, tmp_path):
    unused = base_backup(tmp_path, days_ago=50, first=5)
    full = base_backup(tmp_path, days_ago=40, first=10)
    base_backup(tmp_path, days_ago=20, first=20)  # the newest before the window's start
    incremental = base_backup(tmp_path, days_ago=3, first=30)
    BaseBackup.objects.filter(pk=incremental.pk).update(parent=full)
    archived(archive, *(f"{segment(n)}.gz" for n in (5, 10, 20, 30)))

    pruned = apply_window()

    assert pruned.base_backups == [unused.pk], "the full one the incremental builds on stays, though older"
    assert BaseBackup.objects.get(pk=full.pk).status == BaseBackup.Status.GOOD
    assert sorted(path.name for path in archive.iterdir()) == [f"{segment(n)}.gz" for n in (10, 20, 30)]
