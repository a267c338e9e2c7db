"""Dead workers leave nothing behind, soon: the sweep (every five minutes) fails backups and drills
whose worker was killed (SIGKILL, a real process), deletes their partial files and drops their
scratch databases, and never touches what a live process (of any database on the server) uses."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from backups import postgres
from backups.drills import DEAD_WORKER
from backups.dump import take_backup
from backups.models import Backup, RestoreDrill
from backups.sweep import sweep
from backups.tasks import sweep_dead_work
from tests.backups.helpers import KEY
from tests.test_retention_resume import ROOT, database_url, other_session, wait_until, waiting_on_a_lock

pytestmark = pytest.mark.django_db(transaction=True)


def worker(code: str, backup_dir: Path, **environment) -> subprocess.Popen:
    """A worker process running `code` against this test's database, in its own process group."""
    return subprocess.Popen(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env={
            **os.environ,
            "DATABASE_URL": database_url(),
            "DJANGO_SETTINGS_MODULE": "crm.settings",
            "BACKUP_DIR": str(backup_dir),
            **environment,
        },
        start_new_session=True,
    )


def kill(process: subprocess.Popen) -> None:
    """SIGKILL the worker and what it started (pg_dump, pg_restore)."""
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(10)


def test_a_backup_killed_mid_dump_is_failed_and_its_partial_files_deleted(company, backup_dir):
    blocker, observer = other_session(), other_session()
    blocker.autocommit = False
    with blocker.cursor() as cursor:  # pg_dump will wait for this table
        cursor.execute("LOCK TABLE customers_customer IN ACCESS EXCLUSIVE MODE")
    process = worker("from backups.dump import take_backup; take_backup()", backup_dir)
    try:
        wait_until(lambda: waiting_on_a_lock(observer) and list(backup_dir.glob(".crm-*.partial")))
        running = Backup.objects.get()
        assert running.status == Backup.Status.RUNNING and running.phase == "dumping"
        assert sweep().backups == 0  # alive: left alone
        assert list(backup_dir.glob(".crm-*.partial"))
        kill(process)
    finally:
        blocker.close()
        observer.close()
    wait_until(lambda: sweep().backups == 1)

    failed = Backup.objects.get()
    assert failed.status == Backup.Status.FAILED and "stopped before it finished" in failed.error
    assert list(backup_dir.iterdir()) == []


def test_a_drill_killed_mid_restore_is_failed_and_leaves_no_database_or_decrypted_file(company, backup_dir, settings):
    settings.BACKUP_ENCRYPTION_KEY = KEY
    backup = take_backup()
    before = set(postgres.scratch_databases())
    blocker, observer = other_session(), other_session()
    blocker.autocommit = False
    with blocker.cursor() as cursor:  # the drill records its result on the backup while its scratch exists
        cursor.execute("SELECT 1 FROM backups_backup WHERE id = %s FOR NO KEY UPDATE", [backup.pk])
    code = f"from backups.drills import drill; from backups.models import Backup; drill(Backup.objects.get(pk={backup.pk}))"
    process = worker(code, backup_dir, BACKUP_ENCRYPTION_KEY=KEY)
    try:
        wait_until(lambda: waiting_on_a_lock(observer))
        started = set(postgres.scratch_databases()) - before  # the worker's (and any other test's) scratch
        assert started and list(backup_dir.glob(".plain-*"))
        report = sweep()
        assert report.drills == 0 and not started & set(report.scratch_databases) and not report.plain_files
        kill(process)
    finally:
        blocker.close()
        observer.close()

    dropped, drills = [], []

    def swept():  # the dead sessions end a moment after the process, each in its own time
        report = sweep_dead_work.apply().get()
        dropped.extend(report["scratch_databases"])
        drills.append(report["drills"])
        return started & set(dropped) and sum(drills) == 1

    wait_until(swept)
    assert not set(dropped) & set(postgres.scratch_databases())
    assert not list(backup_dir.glob(".plain-*"))
    dead = RestoreDrill.objects.get()
    assert dead.passed is False and dead.error == DEAD_WORKER and dead.finished_at is not None
    backup.refresh_from_db()
    assert backup.status == Backup.Status.GOOD  # the worker died, not the file


def test_the_sweep_never_drops_a_scratch_database_a_live_process_uses(company, backup_dir):
    backup = take_backup()
    with postgres.scratch_database(Path(backup.path), "crm_drill") as live:
        assert live not in sweep().scratch_databases
        assert live in postgres.scratch_databases()
    assert live not in postgres.scratch_databases()


def test_the_sweep_is_scheduled_every_few_minutes():
    entries = {entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert entries["backups.tasks.sweep_dead_work"] <= 600
