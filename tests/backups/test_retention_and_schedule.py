"""Grandfather-father-son retention over 400 simulated days, and the scheduled tasks on a real worker."""

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from backups.models import Backup
from backups.retention import Policy, apply_retention
from tests.backups.helpers import good_backup_file

POLICY = Policy(daily=7, weekly=4, monthly=12, newest=3)
START = datetime(2025, 1, 1, 2, 0, tzinfo=UTC)


def simulate(days, tmp_path, settings):
    """One nightly run a day, about one in six failing, retention after every good run."""
    settings.TIME_ZONE = "UTC"
    settings.BACKUP_DIR = tmp_path
    rng = random.Random(400)
    for day in range(days):
        when = START + timedelta(days=day)
        if rng.random() < 1 / 6:
            Backup.objects.create(started_at=when, status=Backup.Status.FAILED, error="simulated failure")
            continue
        good_backup_file(tmp_path, when)
        apply_retention(POLICY)


@pytest.mark.django_db
def test_400_days_leave_exactly_the_gfs_set(tmp_path, settings):
    simulate(400, tmp_path, settings)
    good = list(Backup.objects.filter(status=Backup.Status.GOOD).order_by("-started_at"))
    ever_good = list(
        Backup.objects.filter(status__in=[Backup.Status.GOOD, Backup.Status.PRUNED]).order_by("-started_at")
    )

    def newest_per(key, count):
        chosen, seen = [], []
        for backup in ever_good:
            period = key(backup.started_at)
            if period not in seen and len(seen) < count:
                seen.append(period)
                chosen.append(backup.pk)
        return set(chosen)

    expected = (
        {backup.pk for backup in ever_good[:3]}
        | newest_per(lambda when: when.date(), 7)
        | newest_per(lambda when: when.isocalendar()[:2], 4)
        | newest_per(lambda when: (when.year, when.month), 12)
    )
    assert {backup.pk for backup in good} == expected
    assert 12 <= len(good) <= 7 + 4 + 12
    # Files exist exactly for the kept backups; failed runs were never counted or removed.
    assert all(Path(backup.path).exists() for backup in good)
    pruned = Backup.objects.filter(status=Backup.Status.PRUNED)
    assert not any(Path(backup.path).exists() for backup in pruned)
    assert Backup.objects.filter(status=Backup.Status.FAILED).count() > 40


@pytest.mark.django_db
def test_failures_never_cause_a_good_backup_to_be_deleted(tmp_path, settings):
    simulate(30, tmp_path, settings)
    kept = set(Backup.objects.filter(status=Backup.Status.GOOD).values_list("pk", flat=True))
    for day in range(30, 60):  # a month of failures
        Backup.objects.create(started_at=START + timedelta(days=day), status=Backup.Status.FAILED)
        apply_retention(POLICY)
    assert set(Backup.objects.filter(status=Backup.Status.GOOD).values_list("pk", flat=True)) == kept


@pytest.mark.django_db(transaction=True)
def test_the_scheduled_backup_and_drill_run_on_a_real_worker(celery_worker, settings, tmp_path):
    from backups.tasks import restore_drill, scheduled_backup

    settings.BACKUP_DIR = tmp_path / "scheduled"
    backup_id = scheduled_backup.delay().get(timeout=120)
    backup = Backup.objects.get(pk=backup_id)
    assert backup.status == Backup.Status.GOOD and backup.kind == Backup.Kind.SCHEDULED
    restore_drill.delay().get(timeout=120)
    assert backup.drills.get().passed
    from audit.models import SystemEvent

    events = SystemEvent.objects.filter(action__in=["backup_created", "backup_verified"])
    assert set(events.values_list("process", flat=True)) == {"celery:backup", "celery:restore_drill"}


def test_beat_schedules_the_backup_and_the_drill(settings):
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"backups.tasks.scheduled_backup", "backups.tasks.restore_drill"} <= tasks
