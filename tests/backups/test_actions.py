"""The backup actions themselves: who may start a backup or a restore, what refuses one, and what they queue.

The pages and the API only translate these (tests/backups/test_backup_pages.py,
tests/api/test_backups_api.py). What is queued is read back from this test
process's own queue on the real Redis broker, emptied before and after each test.
"""

import threading
import time

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, connections, transaction
from django.utils import translation

from audit.models import AuditEvent, SystemEvent
from backups import actions, restore
from backups.actions import RestoreRunning
from backups.models import Backup, RestoreRun
from backups.tasks import QUEUED
from crm.celery import app
from crm.tenancy.acting import ActionConflict
from crm.tenancy.context import activate
from tests.backups.helpers import backup_lock_held_elsewhere, fake_backup, fake_run, queued_tasks
from tests.factories import make_member, make_tenant

BACKUP_NOW = "backups.tasks.backup_now"
RUN_RESTORE = "backups.tasks.run_restore"
BUSY = "Another backup is running; wait until it ends."


@pytest.fixture(autouse=True)
def in_english():
    """The actions speak the active language; a page test before may have left another one active."""
    with translation.override("en"):
        yield


@pytest.fixture
def queue():
    """queue(task name) -> the tasks of that name waiting in this process's queue (emptied before and after)."""
    app.control.purge()
    yield queued_tasks
    app.control.purge()


@pytest.fixture
def north(db):
    tenant = make_tenant("north", name="North Trading")
    return {"tenant": tenant, "admin": make_member(tenant, "north-admin", role="admin")}


@pytest.fixture
def south(db):
    tenant = make_tenant("south", name="South Shipping")
    return {"tenant": tenant, "admin": make_member(tenant, "south-admin", role="admin")}


@pytest.fixture
def staff(north):
    """An operator: staff, and only a viewer in the company they work from."""
    user = make_member(north["tenant"], "operator", role="viewer")
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    return user


# -- starting a backup -----------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["admin", "manager", "rep", "support", "viewer"])
def test_only_staff_start_a_backup(role, north, queue, django_capture_on_commit_callbacks):
    user = make_member(north["tenant"], role=role)
    with activate(north["tenant"]), django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(PermissionDenied, match="Only staff may back up"):
            actions.start_backup(acting_user=user)
        with pytest.raises(PermissionDenied, match="Only staff may back up"):
            actions.back_up(acting_user=user)
    assert callbacks == [] and queue(BACKUP_NOW) == []
    assert Backup.objects.count() == 0


@pytest.mark.django_db
def test_a_backup_is_queued_once_the_callers_transaction_commits(staff, queue, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        task_id = actions.start_backup(acting_user=staff)
        system_task_id = actions.start_backup(acting_user=None)
    assert queue(BACKUP_NOW) == []  # not before the commit
    for callback in callbacks:
        callback()
    queued = {task["id"]: (task["args"], task["kwargs"]) for task in queue(BACKUP_NOW)}
    assert queued == {task_id: ([], {"user_id": staff.pk}), system_task_id: ([], {"user_id": None})}
    asked = SystemEvent.objects.filter(action=SystemEvent.Action.BACKUP_REQUESTED).order_by("seq")
    assert [(event.actor, event.detail) for event in asked] == [
        (staff, {"task": task_id}),
        (None, {"task": system_task_id}),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["staff", "system"])
def test_no_backup_is_queued_while_another_backup_holds_the_lock(who, staff, queue, django_capture_on_commit_callbacks):
    with (
        backup_lock_held_elsewhere(),
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(ActionConflict) as refused,
    ):
        actions.start_backup(acting_user=staff if who == "staff" else None)
    assert (refused.value.code, str(refused.value)) == ("backup_running", BUSY)
    assert callbacks == [] and queue(BACKUP_NOW) == []


@pytest.mark.django_db(transaction=True)
def test_backing_up_in_process_refuses_while_another_backup_holds_the_lock(staff):
    with backup_lock_held_elsewhere(), pytest.raises(ActionConflict) as refused:
        actions.back_up(acting_user=staff)
    assert (refused.value.code, str(refused.value)) == ("backup_running", BUSY)
    assert Backup.objects.count() == 0


# -- starting a restore: who -----------------------------------------------------------

IN_PLACE = [("tenant", {}), ("customer", {"customer": 7})]


def refused_restore(tenant, backup, user, scope, **extra):
    """The exception start_restore raises for `user` in `tenant` (pytest fails if it does not raise)."""
    with activate(tenant), pytest.raises((PermissionDenied, ActionConflict, ValidationError)) as refused:
        actions.start_restore(backup, scope=scope, acting_user=user, **extra)
    return refused.value


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["manager", "rep", "support", "viewer"])
def test_only_the_companys_admins_restore_it(role, north, backup_dir):
    backup = fake_backup(backup_dir)
    user = make_member(north["tenant"], role=role)
    for scope, extra in IN_PLACE:
        refused = refused_restore(north["tenant"], backup, user, scope, **extra)
        assert isinstance(refused, PermissionDenied) and "administrators of this company" in str(refused)
    assert RestoreRun.objects.count() == 0


@pytest.mark.django_db
def test_staff_and_other_companies_admins_do_not_restore_a_company(north, south, staff, backup_dir):
    backup = fake_backup(backup_dir)
    for user in (staff, south["admin"]):
        for scope, extra in IN_PLACE:
            assert isinstance(refused_restore(north["tenant"], backup, user, scope, **extra), PermissionDenied)
    # Staff with no company at all are refused too (not a crash for want of a company).
    for scope, extra in IN_PLACE:
        with pytest.raises(PermissionDenied):
            actions.start_restore(backup, scope=scope, acting_user=staff, **extra)
    assert RestoreRun.objects.count() == 0


@pytest.mark.django_db
def test_only_staff_restore_into_a_new_database(north, backup_dir):
    backup = fake_backup(backup_dir)
    refused = refused_restore(north["tenant"], backup, north["admin"], "database", database="crm_actions_copy")
    assert isinstance(refused, PermissionDenied) and "Only staff" in str(refused)
    assert RestoreRun.objects.count() == 0


# -- starting a restore: the state --------------------------------------------------------


@pytest.mark.django_db
def test_a_backup_that_cannot_be_restored_is_refused(north, staff, backup_dir):
    failed = fake_backup(backup_dir, status=Backup.Status.FAILED)
    pruned = fake_backup(backup_dir, status=Backup.Status.PRUNED)
    running = fake_backup(backup_dir, status=Backup.Status.RUNNING)
    missing = fake_backup(backup_dir)
    Backup.objects.filter(pk=missing.pk).update(path=missing.path + ".gone")
    missing.refresh_from_db()
    other_schema = fake_backup(backup_dir, manifest={"migrations": ["customers.0001_initial"]})
    reasons = {failed: "failed", pruned: "retention policy", running: "still running", missing: "missing"}
    for backup, words in {**reasons, other_schema: "different version of the database schema"}.items():
        for scope, extra in IN_PLACE:
            refused = refused_restore(north["tenant"], backup, north["admin"], scope, **extra)
            assert isinstance(refused, ActionConflict) and refused.code == "backup_not_restorable"
            assert words in str(refused) and f"#{backup.pk}" in str(refused)
    for backup, words in reasons.items():
        refused = refused_restore(north["tenant"], backup, staff, "database", database="crm_actions_copy")
        assert refused.code == "backup_not_restorable" and words in str(refused)
    assert RestoreRun.objects.count() == 0
    # Into a new database, another schema is no obstacle.
    with activate(north["tenant"]):
        run = actions.start_restore(other_schema, scope="database", database="crm_actions_copy", acting_user=staff)
    assert (run.scope, run.target, run.tenant) == ("database", "crm_actions_copy", None)


@pytest.mark.django_db
def test_a_second_restore_of_the_company_is_refused_while_one_runs(north, south, backup_dir):
    backup = fake_backup(backup_dir)
    working = fake_run(backup, north["tenant"], phase="safety backup")  # held, as a live worker holds it
    fake_run(backup, south["tenant"])  # another company's restore blocks nothing here
    for scope, extra in IN_PLACE:
        refused = refused_restore(north["tenant"], backup, north["admin"], scope, **extra)
        assert isinstance(refused, RestoreRunning) and refused.code == "restore_running"
        assert refused.run == working and f"restore {working.pk}" in str(refused)
    assert RestoreRun.objects.filter(tenant=north["tenant"]).count() == 1

    # One whose worker died does not block (it is ended as failed); a queued one does.
    restore.release(working.pk)
    with activate(north["tenant"]):
        queued = actions.start_restore(backup, scope="tenant", acting_user=north["admin"])
    working.refresh_from_db()
    assert (working.status, working.error) == (RestoreRun.Status.FAILED, restore.DEAD_WORKER)
    assert refused_restore(north["tenant"], backup, north["admin"], "customer", customer=7).run == queued

    south_run = RestoreRun.objects.get(tenant=south["tenant"])
    assert refused_restore(south["tenant"], backup, south["admin"], "tenant").run == south_run


@pytest.mark.django_db(transaction=True)
def test_two_restores_of_the_company_asked_for_at_once_make_one_run(north, backup_dir, queue):
    """The second waits for the first to commit, then finds it running (not a second run beside it)."""
    backup = fake_backup(backup_dir)
    outcome = {}

    def second_request():
        try:
            with activate(north["tenant"]):
                outcome["run"] = actions.start_restore(backup, scope="tenant", acting_user=north["admin"])
        except Exception as error:
            outcome["error"] = error
        finally:
            connections.close_all()

    with transaction.atomic():
        with activate(north["tenant"]):
            first = actions.start_restore(backup, scope="tenant", acting_user=north["admin"])
        thread = threading.Thread(target=second_request)
        thread.start()
        deadline = time.monotonic() + 10
        while not waiting_for_a_lock() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert waiting_for_a_lock(), outcome
    thread.join(30)
    assert isinstance(outcome.get("error"), RestoreRunning) and outcome["error"].run == first, outcome
    assert list(RestoreRun.objects.all()) == [first]
    assert [task["args"] for task in queue(RUN_RESTORE)] == [[first.pk]]


def waiting_for_a_lock() -> bool:
    """Whether another session of this database waits for a lock (read afresh: inside a transaction
    PostgreSQL would otherwise show its first snapshot of pg_stat_activity again)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid())"
        )
        return cursor.fetchone()[0]


# -- starting a restore: what it records and queues -----------------------------------------


@pytest.mark.django_db
def test_a_restore_is_recorded_as_queued_and_handed_to_a_worker_on_commit(
    north, backup_dir, queue, django_capture_on_commit_callbacks
):
    backup = fake_backup(backup_dir)
    with activate(north["tenant"]), django_capture_on_commit_callbacks() as callbacks:
        run = actions.start_restore(backup, scope="tenant", acting_user=north["admin"])
    assert (run.backup, run.tenant, run.scope, run.target) == (backup, north["tenant"], "tenant", "north")
    assert (run.status, run.phase, run.created_by) == (RestoreRun.Status.RUNNING, QUEUED, north["admin"])
    event = AuditEvent.objects.get(tenant=north["tenant"], action=AuditEvent.Action.RESTORE_REQUESTED)
    assert (event.actor, event.object_type, event.object_id) == (north["admin"], "restorerun", str(run.pk))
    assert event.detail == {"backup": backup.pk, "scope": "tenant", "run": run.pk}
    assert queue(RUN_RESTORE) == []  # not before the commit
    for callback in callbacks:
        callback()
    assert [task["args"] for task in queue(RUN_RESTORE)] == [[run.pk]]


@pytest.mark.django_db
def test_the_system_restores_the_active_company(north, backup_dir):
    backup = fake_backup(backup_dir)
    with activate(north["tenant"], process="tests"):
        run = actions.start_restore(backup, scope="tenant", acting_user=None)
    assert (run.tenant, run.target, run.created_by) == (north["tenant"], "north", None)


@pytest.mark.django_db
@pytest.mark.parametrize("customer", [0, -1, 2**63, "5", 1.5, True, None])
def test_a_bad_customer_id_is_refused(customer, north, backup_dir):
    refused = refused_restore(north["tenant"], fake_backup(backup_dir), north["admin"], "customer", customer=customer)
    assert isinstance(refused, ValidationError) and set(refused.message_dict) == {"customer"}
    assert RestoreRun.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name, words",
    [
        (None, "Enter a name"),
        ("", "Enter a name"),
        ("Crm-Copy", "lower-case letters"),
        ("copy; DROP DATABASE crm", "lower-case letters"),
        ("a" * 64, "at most 63"),
        ("template1", "reserved"),
        ("LIVE", "live database"),
        ("RUNNING", "already running"),
    ],
)
def test_a_bad_database_name_is_refused(name, words, north, staff, backup_dir):
    backup = fake_backup(backup_dir)
    fake_run(backup, None, scope=RestoreRun.Scope.DATABASE, target="crm_busy")
    name = {"LIVE": django_settings.DATABASES["default"]["NAME"], "RUNNING": "crm_busy"}.get(name, name)
    refused = refused_restore(north["tenant"], backup, staff, "database", database=name)
    assert isinstance(refused, ValidationError) and set(refused.message_dict) == {"database"}
    assert words in refused.message_dict["database"][0]
    assert RestoreRun.objects.count() == 1


@pytest.mark.django_db
def test_a_scope_that_does_not_exist_is_refused(north, backup_dir):
    refused = refused_restore(north["tenant"], fake_backup(backup_dir), north["admin"], "everything")
    assert isinstance(refused, ValidationError) and set(refused.message_dict) == {"scope"}
    with activate(north["tenant"]), pytest.raises(TypeError):
        actions.start_restore(fake_backup(backup_dir), scope="tenant", customer=7, acting_user=north["admin"])
    assert RestoreRun.objects.count() == 0
