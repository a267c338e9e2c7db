"""Point-in-time recovery on the real server's WAL archive.

`make test` runs against the embedded PostgreSQL, which archives WAL as production does
(crm/devservices.py); these tests need that server. They share its one archive, so they run
one after another on one worker (xdist_group with `--dist loadgroup`, Makefile).
"""

import io
import os
import re
import time

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from audit.models import SystemEvent
from backups import postgres, wal
from backups.tasks import watch_wal_archive
from customers.models import Customer
from tests.factories import RecordMaker

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("wal-archive")]


@pytest.fixture(autouse=True)
def backup_dir(settings, tmp_path):
    settings.BACKUP_DIR = tmp_path / "backups"


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def status_failure() -> CommandError:
    with pytest.raises(CommandError) as failure:
        run("pitr_status")
    return failure.value


def test_the_window_opens_with_the_first_base_backup():
    assert status_failure().returncode == 1, "no base backup yet: nothing is recoverable"

    last = run("backup_now", "--physical").splitlines()[-1]
    assert re.fullmatch(r"Base backup \d+ /\S+", last)

    report = run("pitr_status")
    assert "Archiving: on" in report
    window = re.search(r"Window: (\S+) to (\S+)", report)
    assert window and window.group(1) != "-" and window.group(2) >= window.group(1)
    assert int(re.search(r"Newest archived segment: (\d+) s old", report).group(1)) < 300


def test_rows_purged_after_a_moment_come_back_in_a_database_restored_to_it(tenant, admin_user):
    run("backup_now", "--physical")
    kept = RecordMaker(tenant, admin_user).customer(name="Still here at the moment")
    moment = timezone.now()
    time.sleep(1.1)
    with connection.cursor() as cursor:  # a purge: the row is gone from the live database for good
        cursor.execute(f"DELETE FROM {Customer._meta.db_table} WHERE id = %s", [kept.pk])
    copy = f"pitr_copy_{os.getpid()}"
    try:
        recovered, restored_line = run(
            "restore_backup", "--to-time", moment.isoformat(), "--into-database", copy
        ).splitlines()[-2:]
        assert re.fullmatch(rf"Backup \d+: the database as it was at {re.escape(moment.isoformat())}", recovered)
        assert re.fullmatch(rf"Restore \d+ done: whole database into a new database {copy}", restored_line)
        restored = postgres.connect(copy)
        try:
            with restored.cursor() as cursor:
                cursor.execute(f"SELECT name FROM {Customer._meta.db_table} WHERE id = %s", [kept.pk])
                assert cursor.fetchall() == [("Still here at the moment",)]
        finally:
            restored.close()
    finally:
        if postgres.database_exists(copy):
            postgres.drop_database(copy)


def test_a_moment_before_every_base_backup_is_refused_with_the_window():
    run("backup_now", "--physical")
    with pytest.raises(CommandError) as failure:
        run("restore_backup", "--to-time", "2020-01-01T00:00:00+08:00", "--into-database", "pitr_never")
    assert failure.value.returncode == 2 and "No base backup reaches back to 2020-01-01" in str(failure.value)
    with pytest.raises(CommandError) as failure:
        run("restore_backup", "--to-time", "yesterday at noon", "--into-database", "pitr_never")
    assert failure.value.returncode == 2 and "Not a moment with a time zone" in str(failure.value)


def test_an_archive_the_server_cannot_write_is_reported_once_as_an_audit_event():
    run("backup_now", "--physical")
    directory = wal.archive_dir()
    mode = directory.stat().st_mode
    with connection.cursor() as cursor:
        cursor.execute("SELECT now()")
        (started,) = cursor.fetchone()
        os.chmod(directory, 0o500)  # the server's account may read, not write
        try:
            cursor.execute("CREATE TEMPORARY TABLE wal_filler AS SELECT generate_series(1, 1000) AS n")
            cursor.execute("SELECT pg_switch_wal()")
            assert _wait(cursor, "SELECT last_failed_time > %s FROM pg_stat_archiver", [started])
            failure = status_failure()
            assert failure.returncode == 1 and "WAL archiving is failing" in str(failure)
            assert "WAL archiving is failing" in watch_wal_archive() and "failing" in watch_wal_archive()
            assert SystemEvent.objects.filter(action=SystemEvent.Action.ARCHIVING_FAILED).count() == 1
        finally:
            os.chmod(directory, mode)
        cursor.execute("CREATE TEMPORARY TABLE wal_filler_again AS SELECT 1 AS n")
        cursor.execute("SELECT pg_switch_wal()")  # the archiver catches up with the next segment
        assert _wait(cursor, "SELECT last_archived_time > last_failed_time FROM pg_stat_archiver", [])


def _wait(cursor, sql, params, seconds=90) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        cursor.execute(sql, params)
        if cursor.fetchone()[0]:
            return True
        time.sleep(0.5)
    return False
