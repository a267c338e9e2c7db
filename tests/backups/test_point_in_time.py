"""Point-in-time recovery on the real server's WAL archive.

`make test` runs against the embedded PostgreSQL, which archives WAL as production does
(crm/devservices.py); these tests need that server. They share its one archive, so they run
one after another on one worker (xdist_group with `--dist loadgroup`, Makefile). One base
backup serves them all (tests/backups/conftest.py `pitr_base_copy`); the first test takes
its own through the command, as an operator would.
"""

import io
import os
import re
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from audit.models import SystemEvent
from backups import actions, basebackup, crypto, pitr, postgres, wal
from backups.models import Backup, BaseBackup, RestoreDrill, RestoreRun
from backups.tasks import pitr_drill, watch_wal_archive
from crm.recyclebin import actions as recyclebin
from crm.recyclebin.actions import Item
from crm.tenancy.context import activate
from crm.tenancy.models import UserPreference
from customers.models import Customer
from tests.backups.helpers import KEY
from tests.backups.test_backup_pages import finished, started_run, wait_for
from tests.backups.test_backups import checksums
from tests.conftest import login
from tests.factories import RecordMaker, make_member, make_tenant, make_user

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("wal-archive")]
MOMENT_PAGE = "/backups/restore-to-a-moment/"


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.fixture
def staff_client():
    user = make_user("pitr-operator")
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    return login(user)


def status_failure() -> CommandError:
    with pytest.raises(CommandError) as failure:
        run("pitr_status")
    return failure.value


def server_now():
    """The server's clock, which stamps the commits recovery stops at."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT clock_timestamp()")
        return cursor.fetchone()[0]


def a_whole_second():
    """A moment on a whole second (the browser's form has no finer one), once it has passed."""
    now = server_now()
    moment = now.replace(microsecond=0) + timedelta(seconds=1)
    time.sleep((moment - now).total_seconds() + 0.05)
    return moment


def test_the_window_opens_with_the_first_base_backup_kept_encrypted_with_a_checked_second_copy(settings, tmp_path):
    settings.BACKUP_ENCRYPTION_KEY = KEY
    settings.BACKUP_COPY_TO = str(tmp_path / "offsite")
    assert status_failure().returncode == 1, "no base backup yet: nothing is recoverable"

    last = run("backup_now", "--physical").splitlines()[-1]
    assert re.fullmatch(r"Base backup \d+ /\S+", last)

    base = BaseBackup.objects.get()
    assert last == f"Base backup {base.pk} {base.path}" and base.status == BaseBackup.Status.GOOD
    stored = Path(base.path)
    assert stored.name.endswith(".tar.enc") and crypto.is_encrypted(stored)
    assert oct(stored.stat().st_mode & 0o777) == "0o600" and len(base.sha256) == 64
    assert Path(base.copy_location).read_bytes() == stored.read_bytes()
    basebackup.verify(base.path)  # decrypted: every file against its manifest, and its WAL in the archive

    report = run("pitr_status")
    assert "Archiving: on" in report
    window = re.search(r"Window: (\S+) to (\S+)", report)
    assert window and window.group(1) != "-" and window.group(2) >= window.group(1)
    assert int(re.search(r"Newest archived segment: (\d+) s old", report).group(1)) < 300
    assert "Incremental base backups: on" in report  # PostgreSQL 18 with summarize_wal


def test_rows_purged_after_a_moment_come_back_in_a_database_restored_to_it(base_backup, tenant, admin_user):
    kept = RecordMaker(tenant, admin_user).customer(name="Still here at the moment")
    moment = server_now()
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


def test_a_daily_incremental_builds_on_the_newest_base_backup_and_recovers_a_moment_after_it(
    base_backup, tenant, admin_user
):
    maker = RecordMaker(tenant, admin_user)
    maker.customer(name="Before the incremental")

    # The action the daily job runs, without the job's window pruning: this module's base backups
    # share the server's one archive, which tests/backups/test_point_in_time_window.py prunes in copies.
    with activate(None, process="tests"):
        incremental = actions.take_base_backup(incremental=True, acting_user=None)

    assert incremental.status == BaseBackup.Status.GOOD and incremental.parent == base_backup
    full_size = sum(path.stat().st_size for path in Path(base_backup.path).rglob("*") if path.is_file())
    assert incremental.size < full_size / 2, "only what changed since the full one"
    kept = maker.customer(name="After the incremental")
    moment = server_now()
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {Customer._meta.db_table} WHERE id = %s", [kept.pk])
    with activate(None, process="tests"):
        recovered = pitr.recover(moment)  # the full one and the incremental, combined (pg_combinebackup)
    assert recovered.manifest["base_backup"] == incremental.pk
    assert recovered.manifest["row_counts"]["customers_customer"][str(tenant.pk)] == 2


def test_a_moment_outside_the_window_or_a_name_in_use_is_refused_before_any_recovery(base_backup):
    with pytest.raises(CommandError) as failure:
        run("restore_backup", "--to-time", "2020-01-01T00:00:00+08:00", "--into-database", "pitr_never")
    assert failure.value.returncode == 2 and "No base backup reaches back to 2020-01-01" in str(failure.value)
    with pytest.raises(CommandError) as failure:
        run("restore_backup", "--to-time", "yesterday at noon", "--into-database", "pitr_never")
    assert failure.value.returncode == 2 and "Not a moment with a time zone" in str(failure.value)
    started = time.monotonic()
    with pytest.raises(CommandError) as failure:
        run("restore_backup", "--to-time", timezone.now().isoformat(), "--into-database", "postgres")
    assert failure.value.returncode == 2 and "reserved by PostgreSQL" in str(failure.value)
    assert time.monotonic() - started < 2, "the name is checked before the recovery, not after it"
    assert not Backup.objects.filter(kind=Backup.Kind.POINT_IN_TIME).exists()


def test_an_archive_the_server_cannot_write_is_reported_once_as_an_audit_event(base_backup):
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


def test_the_weekly_drill_recovers_a_recent_moment_and_finds_the_counts_it_saw(base_backup, tenant, admin_user):
    RecordMaker(tenant, admin_user).customer(name="Counted by the drill")

    assert pitr_drill() is True  # the task beat runs weekly

    drill = RestoreDrill.objects.get()
    assert drill.passed and drill.mismatches == [] and drill.restore_seconds > 0
    assert drill.backup.kind == Backup.Kind.POINT_IN_TIME
    assert drill.backup.manifest["row_counts"]["customers_customer"][str(tenant.pk)] == 1
    event = SystemEvent.objects.get(action=SystemEvent.Action.BACKUP_VERIFIED)
    assert event.detail["kind"] == "point_in_time" and event.detail["passed"] is True


def test_a_drill_whose_base_backup_is_damaged_fails_loudly(base_backup, staff_client):
    broken = base_backup.path + "-damaged"
    BaseBackup.objects.filter(pk=base_backup.pk).update(path=broken)  # its files are gone

    assert pitr_drill() is False

    event = SystemEvent.objects.get(action=SystemEvent.Action.BACKUP_VERIFIED)
    assert event.detail["passed"] is False and event.detail["error"]
    page = staff_client.get("/backups/").content.decode()
    assert 'data-testid="pitr-drill-failed"' in page


# -- in the browser ------------------------------------------------------------------


@pytest.fixture
def two_companies():
    data = {}
    for slug in ("north", "south"):
        tenant = make_tenant(slug, name=f"{slug.title()} Trading")
        admin = make_member(tenant, f"{slug}-admin", role="admin")
        maker = RecordMaker(tenant, admin)
        customers = [maker.customer(name=f"{slug} customer {n}") for n in range(2)]
        for customer in customers:
            maker.contact(customer)
            maker.ticket(customer)
        data[slug] = {"tenant": tenant, "admin": admin, "maker": maker, "customers": customers}
    return data


def test_an_admin_restores_the_company_to_a_moment_in_their_time_zone_while_another_keeps_its_later_changes(
    base_backup, two_companies, celery_worker
):
    north, south = two_companies["north"], two_companies["south"]
    UserPreference.objects.create(user=north["admin"], time_zone="Asia/Shanghai")
    north_then = checksums(tenant_id=north["tenant"].pk, versions=False)
    moment = a_whole_second()
    # After the moment: a north customer is purged for good, another is created; south changes too.
    gone = north["customers"][0]
    with activate(north["tenant"], user=north["admin"]):
        recyclebin.delete(Customer.objects.filter(pk=gone.pk), acting_user=north["admin"])
        recyclebin.purge([Item(Customer, gone.pk)], acting_user=north["admin"])
    north["maker"].customer(name="North after the moment")
    south["maker"].customer(name="South after the moment")
    south_now = checksums(tenant_id=south["tenant"].pk)
    client = login(north["admin"])
    assert 'data-testid="restore-moment-link"' in client.get("/backups/").content.decode()
    in_shanghai = timezone.localtime(moment, timezone.get_fixed_timezone(8 * 60)).strftime("%Y-%m-%dT%H:%M:%S")
    form = {"moment": in_shanghai, "scope": "tenant"}

    confirming = client.post(MOMENT_PAGE, form)
    assert 'data-testid="confirmation"' in confirming.content.decode(), confirming.content.decode()[:2000]
    run_id = started_run(client.post(MOMENT_PAGE, {**form, "confirm": "1"}))

    run = wait_for(finished(run_id), timeout=120)
    assert run.status == RestoreRun.Status.DONE, run.error
    assert run.moment == moment and run.backup.kind == Backup.Kind.POINT_IN_TIME
    assert run.backup.manifest["recovered_to"] == moment.isoformat()
    assert run.safety_backup.status == Backup.Status.GOOD  # the same rules as a company restore
    after = checksums(tenant_id=north["tenant"].pk, excluding_batch=run.report["set_aside"]["batch"], versions=False)
    for table in ("customers_customer", "customers_contact", "customers_ticket"):
        assert after[table] == north_then[table], table
    assert checksums(tenant_id=south["tenant"].pk) == south_now  # the other company keeps its later changes
    with activate(north["tenant"]):
        assert Customer.objects.filter(pk=gone.pk).exists()  # the purged customer is back
        assert Customer.deleted.get().name == "North after the moment"  # set aside, not lost
    page = client.get(f"/backups/restores/{run_id}/").content.decode()
    assert 'data-testid="restore-done"' in page and 'data-testid="restore-moment"' in page


def test_the_moment_form_refuses_what_cannot_be_recovered(base_backup, two_companies):
    north = two_companies["north"]
    client = login(north["admin"])
    page = client.get(MOMENT_PAGE).content.decode()
    assert 'data-testid="moment-window"' in page and 'value="database"' not in page  # staff only

    def errors(**form):
        response = client.post(MOMENT_PAGE, form)
        assert response.status_code == 200 and 'data-testid="confirmation"' not in response.content.decode()
        return response.context["form"].errors

    future = (timezone.localtime() + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S")
    assert "future" in errors(moment=future, scope="tenant")["moment"][0]
    assert "earliest moment" in errors(moment="2020-01-01T00:00", scope="tenant")["moment"][0]
    assert errors(moment="not a time", scope="tenant")["moment"]
    assert errors(moment="2020-01-01T00:00", scope="database")["scope"]  # not offered to a company admin
    assert errors(moment=future, scope="customer")["customer"]
    assert not RestoreRun.objects.exists()
    viewer = make_member(north["tenant"], "north-viewer", role="viewer")
    assert login(viewer).get(MOMENT_PAGE).status_code == 403


def _wait(cursor, sql, params, seconds=90) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        cursor.execute(sql, params)
        if cursor.fetchone()[0]:
            return True
        time.sleep(0.2)
    return False
