"""Verified backups, fault injection, restore drills and the three levels of restore."""

import json
import os
import shlex
import stat
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from backups import postgres
from backups.drills import drill
from backups.dump import LOCK_KEY, take_backup
from backups.models import Backup, RestoreRun
from backups.restore import restore_customer, restore_database
from backups.storage import sha256_of
from crm.recyclebin import actions as recyclebin
from crm.recyclebin.actions import Item
from crm.tenancy.context import activate
from customers.models import Contact, Customer, Ticket
from tests.factories import RecordMaker, make_member, make_tenant

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def two_tenants():
    data = {}
    for slug in ("north", "south"):
        tenant = make_tenant(slug)
        admin = make_member(tenant, f"{slug}-admin", role="admin")
        maker = RecordMaker(tenant, admin)
        customers = [maker.customer(name=f"{slug} customer {n}") for n in range(3)]
        for customer in customers:
            maker.contact(customer)
            maker.ticket(customer)
            maker.opportunity(customer)
        data[slug] = {"tenant": tenant, "admin": admin, "maker": maker, "customers": customers}
    return data


RECORD_TABLES = {
    "customers_customer",
    "customers_contact",
    "customers_interaction",
    "customers_ticket",
    "sales_opportunity",
}
BOOKKEEPING = {"audit_auditevent", "audit_systemevent", "backups_restorerun", "backups_backup", "backups_restoredrill"}


def checksums(database=None, tenant_id=None, excluding_batch=None, versions=True) -> dict[str, str]:
    """md5 of every table's rows (optionally one tenant's, optionally not those of one recycle-bin
    batch, optionally without the records' versions) in a stable order; the log of backups left out."""
    conn = postgres.connect(database or settings.DATABASES["default"]["NAME"])
    try:
        with conn.cursor() as cursor:
            result = {}
            for table, tenant_owned in postgres.tables(cursor).items():
                if table in BOOKKEEPING or (tenant_id is not None and not tenant_owned):
                    continue
                where = f"WHERE tenant_id = {int(tenant_id)}" if tenant_id is not None else ""
                if excluding_batch and table in RECORD_TABLES:
                    where += f" AND deletion_batch IS DISTINCT FROM '{uuid.UUID(excluding_batch)}'"
                row = "t::text" if versions or table not in RECORD_TABLES else "(to_jsonb(t) - 'version')::text"
                cursor.execute(
                    f"SELECT md5(coalesce(string_agg({row}, '|' ORDER BY {row}), '')) FROM \"{table}\" t {where}"
                )
                result[table] = cursor.fetchone()[0]
            return result
    finally:
        conn.close()


def final_files(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.glob("*") if not path.name.startswith("."))


# -- a good backup ------------------------------------------------------------------


def test_a_backup_is_good_only_with_file_manifest_and_hash(two_tenants, backup_dir):
    backup = take_backup()
    assert backup.status == Backup.Status.GOOD, backup.error
    path = Path(backup.path)
    assert path.parent == backup_dir and path.exists()
    assert sha256_of(path) == (backup.sha256, backup.size)
    manifest = json.loads(path.with_suffix(".json").read_text())
    assert manifest["sha256"] == backup.sha256 and manifest["size"] == backup.size
    assert manifest["server_version"] and "pg_dump" in manifest["pg_dump_version"]
    assert "customers.0001_initial" in manifest["migrations"]
    north = str(two_tenants["north"]["tenant"].pk)
    assert manifest["row_counts"]["customers_customer"][north] == 3
    assert not list(backup_dir.glob(".*"))  # no temporary files left


def test_backup_now_prints_the_backup_as_its_last_line(two_tenants, capsys):
    call_command("backup_now")
    last = capsys.readouterr().out.strip().splitlines()[-1]
    backup = Backup.objects.get()
    assert last == f"Backup {backup.pk} {backup.path}"


def test_a_restored_backup_equals_its_source(two_tenants):
    backup = take_backup()
    target = f"crm_restore_check_{os.getpid()}"  # other test runs share the server
    postgres.drop_database(target)
    try:
        run = restore_database(backup, target)
        assert run.status == RestoreRun.Status.DONE, run.error
        assert checksums(target) == checksums()
    finally:
        postgres.drop_database(target)


def test_restore_never_goes_over_the_live_database(two_tenants):
    backup = take_backup()
    with pytest.raises(postgres.BackupError, match="live database"):
        restore_database(backup, settings.DATABASES["default"]["NAME"])


# -- fault injection ----------------------------------------------------------------


def fake_bin(tmp_path, pg_dump_script: str) -> Path:
    """A bin directory whose pg_dump is `pg_dump_script`; pg_restore is the real one."""
    directory = tmp_path / "bin"
    directory.mkdir()
    real = Path(postgres.binary("pg_dump")).parent
    (directory / "pg_restore").symlink_to(real / "pg_restore")
    script = directory / "pg_dump"
    script.write_text(pg_dump_script.replace("REAL", str(real)))
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return directory


def assert_failed_cleanly(backup, backup_dir, before_files, match):
    assert backup.status == Backup.Status.FAILED
    assert match in backup.error, backup.error
    assert final_files(backup_dir) == before_files if backup_dir.exists() else True
    assert not list(backup_dir.glob(".*")) if backup_dir.exists() else True


@pytest.fixture
def earlier_good_backup(two_tenants, backup_dir):
    backup = take_backup()
    assert backup.status == Backup.Status.GOOD
    return backup, final_files(backup_dir)


def test_pg_dump_killed_half_way(earlier_good_backup, backup_dir, tmp_path, settings):
    good, files = earlier_good_backup
    settings.PG_BIN_DIR = str(
        fake_bin(tmp_path, '#!/bin/sh\n"REAL/pg_dump" "$@" &\nchild=$!\nkill -9 $child\nwait $child\nexit $?\n')
    )
    backup = take_backup()
    assert_failed_cleanly(backup, backup_dir, files, "pg_dump exited with")
    assert Path(good.path).exists() and Backup.objects.get(pk=good.pk).status == Backup.Status.GOOD


def test_pg_dump_failing_after_writing_a_whole_archive(earlier_good_backup, backup_dir, tmp_path, settings):
    # The archive is complete and `pg_restore --list` would read it: only the exit status tells.
    _good, files = earlier_good_backup
    settings.PG_BIN_DIR = str(
        fake_bin(tmp_path, '#!/bin/sh\n"REAL/pg_dump" "$@" || exit 1\necho "pg_dump: error: late" >&2\nexit 3\n')
    )
    assert_failed_cleanly(take_backup(), backup_dir, files, "pg_dump exited with 3: pg_dump: error: late")


def test_rows_written_while_pg_dump_runs_are_in_neither_the_dump_nor_the_counts(two_tenants, tmp_path, settings):
    # pg_dump and the manifest's counts read one exported snapshot: a row committed after
    # it (here, just before the dump's pg_dump starts; not on `--version`) is in neither,
    # so the drill matches exactly.
    args, _env = postgres.connection_args()
    psql = f'"REAL/psql" -q -v ON_ERROR_STOP=1 {shlex.join(args)}'
    insert = "INSERT INTO auth_group (name) VALUES ('written during the dump')"
    settings.PG_BIN_DIR = str(
        fake_bin(
            tmp_path,
            f'#!/bin/sh\ncase "$*" in *--snapshot=*) {psql} -c "{insert}" || exit 9;; esac\nexec "REAL/pg_dump" "$@"\n',
        )
    )
    backup = take_backup()
    assert backup.status == Backup.Status.GOOD, backup.error
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM auth_group")
        live = cursor.fetchone()[0]
    assert backup.manifest["row_counts"]["auth_group"] == {"*": live - 1}
    result = drill(backup)
    assert result.passed, result.mismatches or result.error


def test_the_counts_beside_pg_dump_use_no_parallel_workers(two_tenants, monkeypatch):
    # They share the cores with pg_dump; parallel workers would take CPU from it.
    seen = []
    count = postgres.row_counts

    def spy(cursor):
        cursor.execute("SHOW max_parallel_workers_per_gather")
        seen.append(cursor.fetchone()[0])
        return count(cursor)

    monkeypatch.setattr(postgres, "row_counts", spy)
    assert take_backup().status == Backup.Status.GOOD
    assert seen == ["0"]


def test_a_wrong_binary(earlier_good_backup, backup_dir, tmp_path, settings):
    _good, files = earlier_good_backup
    settings.PG_BIN_DIR = str(
        fake_bin(tmp_path, "#!/bin/sh\necho 'pg_dump: error: server version mismatch' >&2\nexit 1\n")
    )
    assert_failed_cleanly(take_backup(), backup_dir, files, "server version mismatch")


def test_a_missing_binary(earlier_good_backup, backup_dir, tmp_path, settings):
    _good, files = earlier_good_backup
    settings.PG_BIN_DIR = str(tmp_path / "nowhere")
    assert_failed_cleanly(take_backup(), backup_dir, files, "not found")


def test_an_unwritable_backup_dir(two_tenants, tmp_path, settings):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    settings.BACKUP_DIR = blocker / "backups"
    backup = take_backup()
    assert backup.status == Backup.Status.FAILED and backup.error


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tiny filesystem needs root (CI runs as root)")
def test_a_full_disk(earlier_good_backup, tmp_path, settings):
    tiny = tmp_path / "tiny"
    tiny.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(tiny)], check=True)
    try:
        settings.BACKUP_DIR = tiny
        backup = take_backup()
        assert backup.status == Backup.Status.FAILED
        assert final_files(tiny) == [] and not list(tiny.glob(".*"))
    finally:
        subprocess.run(["umount", str(tiny)], check=True)
    good, _files = earlier_good_backup
    assert Path(good.path).exists()


def test_one_backup_at_a_time(two_tenants):
    other = postgres.connect(settings.DATABASES["default"]["NAME"])
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s, %s)", LOCK_KEY)
        with pytest.raises(postgres.BackupError, match="another backup is running"):
            take_backup()
    finally:
        other.close()  # a dead worker's lock goes with its connection
    for _ in range(50):  # the server notices the closed connection a moment later
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = %s AND objid = %s", LOCK_KEY
            )
            if cursor.fetchone()[0] == 0:
                break
        time.sleep(0.1)
    assert take_backup().status == Backup.Status.GOOD


def test_a_run_left_by_a_dead_worker_is_marked_failed(two_tenants):
    from django.utils import timezone

    stale = Backup.objects.create(started_at=timezone.now(), status=Backup.Status.RUNNING)
    take_backup()
    stale.refresh_from_db()
    assert stale.status == Backup.Status.FAILED and "stopped" in stale.error


# -- drills ------------------------------------------------------------------------


def test_a_drill_restores_into_a_scratch_database_and_compares_counts(two_tenants, capsys):
    backup = take_backup()
    call_command("verify_backups")
    assert capsys.readouterr().out.startswith(f"OK: backup {backup.pk} restored in")
    result = backup.drills.get()
    assert result.passed and result.restore_seconds > 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_database WHERE datname LIKE %s", [f"crm_drill_{os.getpid()}_%"])
        assert cursor.fetchone()[0] == 0


def test_a_drill_fails_when_the_backup_does_not_match_its_manifest(two_tenants):
    backup = take_backup()
    manifest = backup.manifest
    table = manifest["row_counts"]["customers_customer"]
    table[next(iter(table))] += 1
    Backup.objects.filter(pk=backup.pk).update(manifest=manifest)
    backup.refresh_from_db()
    result = drill(backup)
    assert result.passed is False
    assert result.mismatches[0]["table"] == "customers_customer"


# -- restoring one tenant ----------------------------------------------------------


def test_tenant_restore_brings_back_the_backup_and_leaves_others_untouched(two_tenants, capsys):
    north, south = two_tenants["north"], two_tenants["south"]
    backup = take_backup()
    north_at_backup = checksums(tenant_id=north["tenant"].pk, versions=False)
    # After the backup: north loses a customer and gains another; south changes too.
    with activate(north["tenant"], user=north["admin"]):
        recyclebin.delete(Customer.objects.filter(pk=north["customers"][0].pk), acting_user=north["admin"])
    north["maker"].customer(name="Created after the backup")
    south["maker"].customer(name="South after the backup")
    south_before = checksums(tenant_id=south["tenant"].pk)

    call_command("restore_backup", str(backup.pk), "--tenant", "north")

    assert "done" in capsys.readouterr().out
    assert checksums(tenant_id=south["tenant"].pk) == south_before
    run = RestoreRun.objects.get(scope=RestoreRun.Scope.TENANT)
    # The backup's records are back as they were, as new versions; the customer created since is set aside.
    after = checksums(tenant_id=north["tenant"].pk, excluding_batch=run.report["set_aside"]["batch"], versions=False)
    for table in ("customers_customer", "customers_contact", "customers_ticket", "sales_opportunity"):
        assert after[table] == north_at_backup[table], table
    assert Customer.all_objects.get(pk=north["customers"][0].pk).version == 3  # deleted (2), then restored
    assert run.safety_backup.status == Backup.Status.GOOD  # the restore itself can be undone


# -- restoring one customer --------------------------------------------------------


def test_a_purged_customer_comes_back_with_its_children(two_tenants):
    north = two_tenants["north"]
    customer = north["customers"][1]
    backup = take_backup()
    with activate(north["tenant"], user=north["admin"]):
        recyclebin.delete(Customer.objects.filter(pk=customer.pk), acting_user=north["admin"])
        recyclebin.purge([Item(Customer, customer.pk)], acting_user=north["admin"])
        run = restore_customer(backup, north["tenant"], customer.pk)
        assert run.status == RestoreRun.Status.DONE, run.error or run.report
        assert Customer.objects.filter(pk=customer.pk).exists()
        assert Contact.objects.filter(customer_id=customer.pk).count() == 1
        assert Ticket.objects.filter(customer_id=customer.pk).count() == 1
        assert Customer.history.filter(id=customer.pk, history_change_reason="restored from backup").exists()


def test_customer_restore_reports_conflicts_and_writes_nothing(two_tenants, capsys):
    north = two_tenants["north"]
    customer = north["customers"][2]
    backup = take_backup()
    # Still live (only soft-deleted): the same ids exist.
    with activate(north["tenant"], user=north["admin"]):
        customer.delete()
    before = checksums(tenant_id=north["tenant"].pk)
    with pytest.raises(CommandError, match="conflicts") as error:
        call_command("restore_backup", str(backup.pk), "--tenant", "north", "--customer", str(customer.pk))
    assert "customers_customer" in str(error.value) and "\n" not in str(error.value)  # one line
    assert error.value.returncode == 2
    assert checksums(tenant_id=north["tenant"].pk) == before


def test_customer_restore_refuses_an_email_taken_since(two_tenants):
    north = two_tenants["north"]
    customer = north["customers"][0]
    backup = take_backup()
    with activate(north["tenant"], user=north["admin"]):
        recyclebin.delete(Customer.objects.filter(pk=customer.pk), acting_user=north["admin"])
        recyclebin.purge([Item(Customer, customer.pk)], acting_user=north["admin"])
    north["maker"].customer(email=customer.email)
    run = restore_customer(backup, north["tenant"], customer.pk)
    assert run.status == RestoreRun.Status.REFUSED
    assert any("email" in conflict for conflict in run.report["conflicts"])


@pytest.mark.parametrize(
    "args",
    [
        ["999999", "--into-database", "x"],
        ["1"],
        ["1", "--into-database", "x", "--tenant", "north"],
        ["1", "--customer", "3"],
    ],
)
def test_restore_backup_bad_arguments_are_one_line_errors(args, two_tenants):
    with pytest.raises(CommandError) as error:
        call_command("restore_backup", *args)
    assert error.value.returncode == 2 and "\n" not in str(error.value)
