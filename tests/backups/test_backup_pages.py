"""The backup pages: history, restores of a company or a customer, and staff's whole-database actions.

Page and permission tests use Backup rows with a stand-in file; the end-to-end
tests take real backups and run the restore / "Back up now" on a real Celery
worker (real PostgreSQL and Redis), then read the result in the progress page.
"""

import re
import time
import uuid
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from audit.models import AuditEvent, SystemEvent
from backups import postgres, restore
from backups.dump import take_backup
from backups.models import Backup, RestoreDrill, RestoreRun
from backups.tasks import BACKUP_STARTED, QUEUED, backup_now, run_restore
from crm.celery import app
from crm.recyclebin import actions as recyclebin
from crm.recyclebin.actions import Item
from crm.tenancy.context import activate
from customers.models import Customer
from tests.backups.helpers import backup_lock_held_elsewhere, fake_backup, fake_run, queued_tasks
from tests.conftest import login
from tests.factories import RecordMaker, make_member, make_tenant

LIST = "/backups/"
TIMEOUT = 180


@pytest.fixture
def north(db):
    tenant = make_tenant("north", name="North Trading")
    admin = make_member(tenant, "north-admin", role="admin")
    maker = RecordMaker(tenant, admin)
    customers = [maker.customer(name=f"North customer {n}") for n in range(2)]
    for customer in customers:
        maker.contact(customer)
        maker.ticket(customer)
    return {"tenant": tenant, "admin": admin, "maker": maker, "customers": customers}


@pytest.fixture
def south(db):
    tenant = make_tenant("south", name="South Shipping")
    admin = make_member(tenant, "south-admin", role="admin")
    RecordMaker(tenant, admin).customer(name="South customer")
    return {"tenant": tenant, "admin": admin}


@pytest.fixture
def staff(north):
    """An operator: staff, and only a viewer in the company they work from."""
    user = make_member(north["tenant"], "operator", role="viewer")
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    return user


def find_testids(response, name) -> list[str]:
    return re.findall(rf'data-testid="{name}"', response.content.decode())


# -- who may see what ---------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["manager", "rep", "support", "viewer"])
def test_only_company_admins_and_staff_see_backups(role, north, backup_dir):
    backup = fake_backup(backup_dir)
    run = fake_run(backup, north["tenant"])
    client = login(make_member(north["tenant"], role=role))
    for url in (
        LIST,
        f"/backups/{backup.pk}/status/",
        f"/backups/{backup.pk}/restore-company/",
        f"/backups/{backup.pk}/restore-customer/",
        f"/backups/restores/{run.pk}/",
    ):
        response = client.get(url)
        assert response.status_code == 403, url
        assert find_testids(response, "problem")
    assert client.post(f"/backups/{backup.pk}/restore-company/", {"confirm": "1"}).status_code == 403
    assert RestoreRun.objects.count() == 1


@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(LIST)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_the_admin_sees_the_history_with_sizes_durations_and_the_last_drill(north, backup_dir):
    good = fake_backup(backup_dir, kind=Backup.Kind.MANUAL, size=5 * 1024 * 1024, duration=75.4)
    RestoreDrill.objects.create(
        backup=good, started_at=timezone.now() - timedelta(days=7), passed=False, error="old drill"
    )
    RestoreDrill.objects.create(backup=good, started_at=timezone.now(), passed=True, restore_seconds=2.5)
    failed = fake_backup(
        backup_dir, status=Backup.Status.FAILED, error="pg_dump exited with 1: secret detail", duration=3.2
    )
    pruned = fake_backup(backup_dir, status=Backup.Status.PRUNED, started_at=timezone.now() - timedelta(days=90))

    response = login(north["admin"]).get(LIST)

    assert response.status_code == 200
    html = response.content.decode()
    rows = {row["backup"].pk: row for row in response.context["rows"]}
    assert list(rows) == [failed.pk, good.pk, pruned.pk]  # newest first
    assert rows[good.pk]["drill"].passed is True  # the last drill, not the older failed one
    assert "5.0\xa0MB" in html and "1 min 15 s" in html and "3.2 s" in html
    assert "passed" in html and "Manual" in html
    assert "Removed by retention" in html
    assert "secret detail" not in html  # failure details are for staff
    # Restore links only for the good backup; no whole-database actions for a company admin.
    assert html.count('data-testid="restore-company-link"') == 1
    assert f"/backups/{good.pk}/restore-customer/" in html
    assert not find_testids(response, "backup-now") and not find_testids(response, "restore-database-link")
    assert find_testids(login(north["admin"]).get("/"), "nav-backups")


@pytest.mark.django_db
def test_staff_see_failure_details_and_the_whole_database_actions(staff, backup_dir):
    fake_backup(backup_dir, status=Backup.Status.FAILED, error="pg_dump exited with 1: disk full")
    fake_backup(backup_dir)
    response = login(staff).get(LIST)
    assert response.status_code == 200
    assert "disk full" in response.content.decode()
    assert find_testids(response, "backup-now") and len(find_testids(response, "restore-database-link")) == 1
    # Staff who are not admins of the company do not restore it.
    assert not find_testids(response, "restore-company-link")
    assert find_testids(login(staff).get("/"), "nav-backups")


@pytest.mark.django_db
def test_managers_have_no_backups_link(north):
    response = login(make_member(north["tenant"], role="manager")).get("/")
    assert not find_testids(response, "nav-backups")


@pytest.mark.django_db
def test_restores_are_listed_per_company_and_another_companys_run_is_a_404(north, south, staff, backup_dir):
    backup = fake_backup(backup_dir)
    mine = fake_run(backup, north["tenant"], status=RestoreRun.Status.DONE)
    theirs = fake_run(backup, south["tenant"], target="south")
    whole = fake_run(backup, None, scope=RestoreRun.Scope.DATABASE, target="crm_copy")
    admin = login(north["admin"])

    listed = [row["run"].pk for row in admin.get(LIST).context["restore_rows"]]
    assert listed == [mine.pk]
    assert admin.get(f"/backups/restores/{mine.pk}/").status_code == 200
    assert admin.get(f"/backups/restores/{theirs.pk}/").status_code == 404
    assert admin.get(f"/backups/restores/{whole.pk}/").status_code == 404  # whole-database runs: staff
    assert admin.get("/backups/restores/999999999/").status_code == 404

    operator = login(staff)
    assert [row["run"].pk for row in operator.get(LIST).context["restore_rows"]] == [whole.pk]
    assert operator.get(f"/backups/restores/{whole.pk}/").status_code == 200
    assert operator.get(f"/backups/restores/{theirs.pk}/").status_code == 404


@pytest.mark.django_db
def test_whole_database_actions_are_403_for_company_admins(north, backup_dir):
    backup = fake_backup(backup_dir)
    admin = login(north["admin"])
    assert admin.post("/backups/now/").status_code == 403
    assert admin.get(f"/backups/{backup.pk}/restore-database/").status_code == 403
    assert admin.post(f"/backups/{backup.pk}/restore-database/", {"database": "crm_copy"}).status_code == 403
    assert admin.get("/backups/now/3f1c9d2e-0000-4000-8000-000000000000/").status_code == 403
    assert RestoreRun.objects.count() == 0


@pytest.mark.django_db
def test_staff_who_are_not_company_admins_cannot_restore_the_company(staff, backup_dir):
    backup = fake_backup(backup_dir)
    assert login(staff).post(f"/backups/{backup.pk}/restore-company/", {"confirm": "1"}).status_code == 403
    assert RestoreRun.objects.count() == 0


@pytest.mark.django_db
def test_the_list_runs_a_constant_number_of_queries(north, staff, backup_dir):
    def add(count):
        for _n in range(count):
            backup = fake_backup(backup_dir, size=1000, duration=1.0)
            RestoreDrill.objects.create(backup=backup, started_at=timezone.now(), passed=True)
            RestoreDrill.objects.create(backup=backup, started_at=timezone.now(), passed=False)
            fake_run(backup, north["tenant"], created_by=north["admin"])
            fake_run(backup, None, scope=RestoreRun.Scope.DATABASE, target="crm_copy", created_by=staff)

    counts = []
    for user in (north["admin"], staff):
        client = login(user)
        client.get(LIST)  # the first request of a session also stores its company
        for count in (2, 10):
            add(count)
            with CaptureQueriesContext(connection) as queries:
                assert client.get(LIST).status_code == 200
            counts.append(len(queries))
    assert counts[0] == counts[1] and counts[2] == counts[3], counts


# -- confirmation pages -------------------------------------------------------------


@pytest.mark.django_db
def test_the_company_restore_page_says_exactly_what_will_change(north, south, backup_dir):
    tenant = north["tenant"]
    counts = {"customers_customer": {str(tenant.pk): 5}, "customers_contact": {str(tenant.pk): 7}}
    backup = fake_backup(backup_dir, manifest={"migrations": postgres.applied_migrations(), "row_counts": counts})

    response = login(north["admin"]).get(f"/backups/{backup.pk}/restore-company/")

    assert response.status_code == 200
    statement = re.search(r'data-testid="confirm-statement">(.*?)</p>', response.content.decode(), re.S).group(1)
    assert "The records of North Trading" in statement and "customers, contacts" in statement
    notes = re.search(r'data-testid="confirm-notes">(.*?)</ul>', response.content.decode(), re.S).group(1)
    assert "set aside in the recycle bin" in notes  # never destroyed (issue #14)...
    assert "Members, roles, API tokens, purge permissions and the company's settings stay as they are" in notes
    assert response.context["backup_when"] in statement
    html = response.content.decode()
    assert "safety backup" in html and "Other companies are not touched" in html
    assert "South Shipping" not in html
    rows = {str(row["label"]): (row["now"], row["in_backup"]) for row in response.context["counts"]}
    assert rows["customers"] == (2, 5) and rows["contacts"] == (2, 7) and rows["tickets"] == (2, 0)
    assert "memberships" not in rows  # ...and access is not restored: not counted as if it were
    assert find_testids(response, "confirm-button")
    assert RestoreRun.objects.count() == 0  # looking changes nothing


@pytest.mark.django_db
def test_the_customer_restore_asks_for_a_name_first(north, backup_dir):
    """Finding, confirming and refusing: tests/backups/test_restore_screens.py (they read real backups)."""
    backup = fake_backup(backup_dir)

    asked = login(north["admin"]).get(f"/backups/{backup.pk}/restore-customer/")

    assert asked.status_code == 200 and find_testids(asked, "customer-search-form")
    assert not find_testids(asked, "customer-match") and RestoreRun.objects.count() == 0


# -- bad input: clear messages, never a 500 ----------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["", "abc", "0", "-3", "1.5", "9" * 30, "12\x00", " "])
def test_a_bad_customer_id_is_a_form_error(value, north, backup_dir):
    backup = fake_backup(backup_dir)
    client = login(north["admin"])
    url = f"/backups/{backup.pk}/restore-customer/"
    for response in (client.get(url, {"customer": value}), client.post(url, {"customer": value, "confirm": "1"})):
        assert response.status_code == 200
        assert find_testids(response, "customer-search-form") and find_testids(response, "customer-error")
    assert client.post(url, {"confirm": "1"}).status_code == 200  # no customer field at all
    assert RestoreRun.objects.count() == 0


@pytest.mark.django_db
def test_bad_backup_ids_are_404s(north, staff):
    admin, operator = login(north["admin"]), login(staff)
    for pk in ("999999", "9" * 25):
        assert admin.get(f"/backups/{pk}/restore-company/").status_code == 404
        assert admin.get(f"/backups/{pk}/restore-customer/").status_code == 404
        assert admin.get(f"/backups/{pk}/status/").status_code == 404
        assert admin.get(f"/backups/restores/{pk}/").status_code == 404
        assert operator.get(f"/backups/{pk}/restore-database/").status_code == 404
    assert admin.get("/backups/abc/restore-company/").status_code == 404
    assert operator.get("/backups/now/not-a-task/").status_code == 404


@pytest.mark.django_db
def test_a_failed_pruned_missing_or_foreign_schema_backup_is_explained(north, staff, backup_dir):
    failed = fake_backup(backup_dir, status=Backup.Status.FAILED)
    pruned = fake_backup(backup_dir, status=Backup.Status.PRUNED)
    missing = fake_backup(backup_dir)
    missing_path = missing.path
    Backup.objects.filter(pk=missing.pk).update(path=missing_path + ".gone")
    other_schema = fake_backup(backup_dir, manifest={"migrations": ["customers.0001_initial"]})
    admin, operator = login(north["admin"]), login(staff)
    expected = {failed: "failed", pruned: "removed by the retention policy", missing: "missing"}
    for backup, words in {**expected, other_schema: "different version of the database schema"}.items():
        for action in ("restore-company", "restore-customer"):
            for response in (
                admin.get(f"/backups/{backup.pk}/{action}/"),
                admin.post(f"/backups/{backup.pk}/{action}/", {"confirm": "1", "customer": "1"}),
            ):
                assert response.status_code == 409
                assert words in response.content.decode() and find_testids(response, "problem")
    for backup, words in expected.items():
        response = operator.post(f"/backups/{backup.pk}/restore-database/", {"database": "crm_copy"})
        assert response.status_code == 409 and words in response.content.decode()
    # Restoring into a new database does not need the same schema.
    assert operator.get(f"/backups/{other_schema.pk}/restore-database/").status_code == 200
    assert RestoreRun.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name, words",
    [
        ("", "Enter a name"),
        ("Crm-Copy", "lower-case letters"),
        ("1copy", "lower-case letters"),
        ("copy; DROP DATABASE crm", "lower-case letters"),
        ("a" * 64, "at most 63"),
        ("copy\x00", "Null characters"),
        ("postgres", "reserved"),
        ("LIVE", "live database"),
    ],
)
def test_a_bad_database_name_is_a_form_error(name, words, staff, backup_dir):
    backup = fake_backup(backup_dir)
    name = django_settings.DATABASES["default"]["NAME"] if name == "LIVE" else name
    response = login(staff).post(f"/backups/{backup.pk}/restore-database/", {"database": name})
    assert response.status_code == 200
    assert words in response.content.decode()
    assert RestoreRun.objects.count() == 0


@pytest.mark.django_db
def test_an_existing_database_or_a_restore_already_running_into_it_is_refused(staff, backup_dir):
    backup = fake_backup(backup_dir)
    fake_run(backup, None, scope=RestoreRun.Scope.DATABASE, target="crm_busy")
    client = login(staff)
    url = f"/backups/{backup.pk}/restore-database/"
    assert "already running" in client.post(url, {"database": "crm_busy"}).content.decode()
    postgres.create_database("crm_pages_existing")
    try:
        response = client.post(url, {"database": "crm_pages_existing"})
    finally:
        postgres.drop_database("crm_pages_existing")
    assert response.status_code == 200 and "already exists" in response.content.decode()
    assert RestoreRun.objects.count() == 1


@pytest.mark.django_db
def test_a_running_restore_of_the_company_is_shown_instead_of_a_second_one(north, backup_dir):
    backup = fake_backup(backup_dir)
    running = fake_run(backup, north["tenant"], phase="safety backup")
    client = login(north["admin"])
    for response in (
        client.get(f"/backups/{backup.pk}/restore-company/"),
        client.post(f"/backups/{backup.pk}/restore-customer/", {"customer": "5", "confirm": "1"}),
    ):
        assert response.status_code == 302 and response["Location"] == f"/backups/restores/{running.pk}/"
    # One whose worker died does not block: it is ended as failed.
    restore.release(running.pk)
    assert client.get(f"/backups/{backup.pk}/restore-company/").status_code == 200
    running.refresh_from_db()
    assert (running.status, running.error) == (RestoreRun.Status.FAILED, restore.DEAD_WORKER)
    assert RestoreRun.objects.count() == 1


# -- progress pages -----------------------------------------------------------------


@pytest.mark.django_db
def test_the_progress_page_polls_with_htmx_until_the_run_ends(north, backup_dir):
    backup = fake_backup(backup_dir)
    run = fake_run(backup, north["tenant"], phase=QUEUED, created_by=north["admin"])
    client = login(north["admin"])
    url = f"/backups/restores/{run.pk}/"

    page = client.get(url)
    html = page.content.decode()
    assert "<html" in html and 'hx-trigger="every 2s"' in html and f'hx-get="{url}"' in html
    assert "waiting for a worker" in html

    fragment = client.get(url, HTTP_HX_REQUEST="true")
    assert "<html" not in fragment.content.decode() and 'hx-trigger="every 2s"' in fragment.content.decode()
    assert "no-store" in fragment["Cache-Control"]

    restore.hold(run.pk)  # a worker takes it
    RestoreRun.objects.filter(pk=run.pk).update(phase="replacing the company's rows")
    assert "replacing the company" in client.get(url, HTTP_HX_REQUEST="true").content.decode()

    RestoreRun.objects.filter(pk=run.pk).update(
        status=RestoreRun.Status.FAILED, phase="", error="pg_restore exited with 1", finished_at=timezone.now()
    )
    done = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert 'hx-trigger="every' not in done  # polling stops
    assert 'data-testid="restore-failed"' in done and "pg_restore exited with 1" in done


@pytest.mark.django_db
def test_the_backup_progress_page_polls_while_the_backup_runs(staff, backup_dir):
    backup = fake_backup(backup_dir, status=Backup.Status.RUNNING, phase="dumping")
    client = login(staff)
    url = f"/backups/{backup.pk}/status/"
    fragment = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert 'hx-trigger="every 2s"' in fragment and "dumping the database" in fragment
    Backup.objects.filter(pk=backup.pk).update(status=Backup.Status.GOOD, phase="", size=2048, duration=4.0)
    done = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert 'hx-trigger="every' not in done and 'data-testid="backup-good"' in done and "2.0\xa0KB" in done


@pytest.mark.django_db
def test_pages_are_translated(north, backup_dir):
    backup = fake_backup(backup_dir)
    client = login(north["admin"], language="zh-hans")
    response = client.get(LIST)
    assert response.status_code == 200
    assert response.context["LANGUAGE_CODE"] == "zh-hans"
    assert client.get(f"/backups/{backup.pk}/restore-company/").status_code == 200


# -- the tasks behind the pages ------------------------------------------------------


@pytest.mark.django_db
def test_a_queued_restore_whose_backup_was_pruned_meanwhile_fails_clearly(north, backup_dir):
    backup = fake_backup(backup_dir)
    run = fake_run(backup, north["tenant"], phase=QUEUED, created_by=north["admin"])
    Backup.objects.filter(pk=backup.pk).update(status=Backup.Status.PRUNED)

    assert run_restore.apply(args=[run.pk]).get() == RestoreRun.Status.FAILED

    run.refresh_from_db()
    assert run.status == RestoreRun.Status.FAILED and f"No good backup {backup.pk}" in run.error
    assert run.finished_at and run.phase == ""
    html = login(north["admin"]).get(f"/backups/restores/{run.pk}/").content.decode()
    assert 'data-testid="restore-failed"' in html and 'hx-trigger="every' not in html
    # A second delivery of the same task finds nothing queued and changes nothing.
    assert run_restore.apply(args=[run.pk]).get() is None
    assert RestoreRun.objects.get(pk=run.pk).error == run.error


@pytest.mark.django_db
def test_a_queued_restore_never_stays_running(north, backup_dir):
    """A refused check or an unexpected error ends the browser's run as failed."""
    other_schema = fake_backup(backup_dir, manifest={"migrations": ["customers.0001_initial"]})
    schema_run = fake_run(other_schema, north["tenant"], phase=QUEUED)
    broken_run = fake_run(fake_backup(backup_dir), north["tenant"], phase=QUEUED, scope="customer", target="x")

    run_restore.apply(args=[schema_run.pk])
    run_restore.apply(args=[broken_run.pk])

    schema_run.refresh_from_db()
    broken_run.refresh_from_db()
    assert schema_run.status == RestoreRun.Status.FAILED and "different database schema" in schema_run.error
    assert broken_run.status == RestoreRun.Status.FAILED and "ValueError" in broken_run.error
    failures = AuditEvent.objects.filter(action=AuditEvent.Action.RESTORE_FAILED, tenant=north["tenant"])
    assert failures.count() == 2 and {event.process for event in failures} == {"celery:restore"}


@pytest.mark.django_db(transaction=True)
def test_back_up_now_publishes_its_backup_as_soon_as_the_row_exists(staff):
    task_id = str(uuid.uuid4())
    outcome = backup_now.apply(kwargs={"user_id": staff.pk}, task_id=task_id).get()
    published = app.AsyncResult(task_id)
    try:
        # Run in-process, the task stores no final result: what is left is what it published mid-way.
        assert published.state == BACKUP_STARTED and published.info == {"backup_id": outcome["backup_id"]}
        response = login(staff).get(f"/backups/now/{task_id}/")
        assert response.status_code == 302 and response["Location"] == f"/backups/{outcome['backup_id']}/status/"
    finally:
        published.forget()
    assert Backup.objects.get(pk=outcome["backup_id"]).status == Backup.Status.GOOD


@pytest.mark.django_db
def test_the_pending_page_waits_for_an_unknown_task(staff):
    html = login(staff).get(f"/backups/now/{uuid.uuid4()}/").content.decode()
    assert 'data-testid="backup-waiting"' in html and 'hx-trigger="every 2s"' in html


@pytest.fixture
def backup_queue():
    """This test process's queue on the real Redis broker, emptied before and after: no queued backup
    reaches a worker of a later test. Returns the "back up now" tasks waiting in it."""
    app.control.purge()
    yield lambda: queued_tasks("backups.tasks.backup_now")
    app.control.purge()


@pytest.mark.django_db
def test_back_up_now_queues_one_backup_as_the_staff_member(staff, backup_queue, django_capture_on_commit_callbacks):
    client = login(staff)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/backups/now/")
    [queued] = backup_queue()
    assert queued["kwargs"] == {"user_id": staff.pk}
    assert response.status_code == 302 and response["Location"] == f"/backups/now/{queued['id']}/"
    assert 'data-testid="backup-waiting"' in client.get(response["Location"]).content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_back_up_now_while_another_backup_runs_queues_nothing_and_says_why(
    language, staff, backup_queue, django_capture_on_commit_callbacks
):
    """The browser's button once queued a second backup where the API refused with a 409."""
    client = login(staff, language=language)
    with backup_lock_held_elsewhere(), django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post("/backups/now/")
        page = client.get(LIST)

    assert backup_queue() == [] and callbacks == []
    assert response.status_code == 302 and response["Location"] == LIST
    with translation.override(language):  # in Chinese once the catalogues are compiled (make messages)
        why = translation.gettext("Another backup is running; wait until it ends.")
    shown = [message.strip() for message in re.findall(r'data-testid="message">(.*?)<', page.content.decode(), re.S)]
    assert shown == [why]
    assert Backup.objects.count() == 0


# -- end to end on a real worker ------------------------------------------------------


def wait_for(check, timeout=TIMEOUT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout}s waiting for {check}")


def finished(run_id):
    return lambda: RestoreRun.objects.exclude(status=RestoreRun.Status.RUNNING).filter(pk=run_id).first()


def started_run(response) -> int:
    assert response.status_code == 302, response.content.decode()[:500]
    match = re.fullmatch(r"/backups/restores/(\d+)/", response["Location"])
    assert match, response["Location"]
    return int(match.group(1))


@pytest.mark.django_db(transaction=True)
def test_a_company_restore_started_in_the_browser_runs_on_a_worker(north, south, celery_worker):
    backup = take_backup()
    assert backup.status == Backup.Status.GOOD, backup.error
    north["maker"].customer(name="Created after the backup")
    south_after = RecordMaker(south["tenant"], south["admin"]).customer(name="South after the backup")
    client = login(north["admin"])

    run_id = started_run(client.post(f"/backups/{backup.pk}/restore-company/", {"confirm": "1"}))

    run = wait_for(finished(run_id))
    assert run.status == RestoreRun.Status.DONE, run.error
    assert run.created_by == north["admin"] and run.tenant == north["tenant"]
    assert run.safety_backup.status == Backup.Status.GOOD
    page = client.get(f"/backups/restores/{run_id}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="restore-done"' in html and 'hx-trigger="every' not in html
    assert 'data-testid="restore-set-aside"' in html and f"?batch={run.report['set_aside']['batch']}" in html
    with activate(north["tenant"]):
        assert sorted(Customer.objects.values_list("name", flat=True)) == ["North customer 0", "North customer 1"]
        set_aside = Customer.deleted.get()  # not in the backup: in the recycle bin, not gone
        assert (set_aside.name, set_aside.deleted_by) == ("Created after the backup", north["admin"])
    with activate(south["tenant"]):
        assert Customer.objects.filter(pk=south_after.pk).exists()  # other companies untouched
    event = AuditEvent.objects.get(action=AuditEvent.Action.BACKUP_RESTORED, tenant=north["tenant"])
    assert event.process == "celery:restore" and event.actor == north["admin"]
    assert event.detail["restore_id"] == run_id
    listed = login(north["admin"]).get(LIST)
    assert [row["run"].pk for row in listed.context["restore_rows"]] == [run_id]


@pytest.mark.django_db(transaction=True)
def test_a_customer_restore_with_conflicts_shows_them(north, celery_worker):
    customer = north["customers"][1]
    backup = take_backup()
    with activate(north["tenant"], user=north["admin"]):
        recyclebin.delete(
            Customer.objects.filter(pk=customer.pk), acting_user=north["admin"]
        )  # soft: the ids still exist
    client = login(north["admin"])
    url = f"/backups/{backup.pk}/restore-customer/"

    run_id = started_run(client.post(url, {"customer": str(customer.pk), "confirm": "1"}))

    run = wait_for(finished(run_id))
    assert run.status == RestoreRun.Status.REFUSED
    fragment = client.get(f"/backups/restores/{run_id}/", HTTP_HX_REQUEST="true").content.decode()
    assert 'data-testid="restore-refused"' in fragment and 'hx-trigger="every' not in fragment
    conflicts = re.findall(r'data-testid="restore-conflict">(.*?)</li>', fragment)
    assert f"customers_customer {customer.pk} exists in the live database" in conflicts
    assert len(conflicts) == len(run.report["conflicts"]) >= 3  # the customer, its contact, its ticket


@pytest.mark.django_db(transaction=True)
def test_a_purged_customer_comes_back_from_the_browser(north, celery_worker):
    customer = north["customers"][0]
    backup = take_backup()
    with activate(north["tenant"], user=north["admin"]):
        recyclebin.delete(Customer.objects.filter(pk=customer.pk), acting_user=north["admin"])
        recyclebin.purge([Item(Customer, customer.pk)], acting_user=north["admin"])
    client = login(north["admin"])

    run_id = started_run(
        client.post(f"/backups/{backup.pk}/restore-customer/", {"customer": str(customer.pk), "confirm": "1"})
    )

    run = wait_for(finished(run_id))
    assert run.status == RestoreRun.Status.DONE, run.error or run.report
    assert 'data-testid="restore-done"' in client.get(f"/backups/restores/{run_id}/").content.decode()
    with activate(north["tenant"]):
        assert Customer.objects.filter(pk=customer.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_a_staff_restore_into_a_new_database_runs_on_a_worker(staff, celery_worker):
    backup = take_backup()
    target = f"crm_browser_copy_{uuid.uuid4().hex[:12]}"  # the server is shared: never another run's database
    client = login(staff)
    try:
        run_id = started_run(client.post(f"/backups/{backup.pk}/restore-database/", {"database": target}))
        run = wait_for(finished(run_id))
        assert run.status == RestoreRun.Status.DONE, run.error
        assert run.tenant is None and run.scope == RestoreRun.Scope.DATABASE
        assert postgres.database_exists(target)
        html = client.get(f"/backups/restores/{run_id}/").content.decode()
        assert 'data-testid="restore-done"' in html and target in html
    finally:
        postgres.drop_database(target)


def pending_until_backup(client, pending_url) -> int:
    def check():
        response = client.get(pending_url)
        if response.status_code == 302:
            return int(re.fullmatch(r"/backups/(\d+)/status/", response["Location"]).group(1))
        assert response.status_code == 200
        return None

    return wait_for(check)


@pytest.mark.django_db(transaction=True)
def test_back_up_now_on_a_worker_produces_a_good_backup(staff, celery_worker):
    client = login(staff)

    response = client.post("/backups/now/")

    assert response.status_code == 302
    pending_url = response["Location"]
    assert re.fullmatch(r"/backups/now/[0-9a-f-]{36}/", pending_url)
    backup_id = pending_until_backup(client, pending_url)
    # htmx polls are sent on with HX-Redirect.
    assert client.get(pending_url, HTTP_HX_REQUEST="true")["HX-Redirect"] == f"/backups/{backup_id}/status/"
    backup = wait_for(lambda: Backup.objects.exclude(status=Backup.Status.RUNNING).filter(pk=backup_id).first())
    assert backup.status == Backup.Status.GOOD, backup.error
    assert backup.kind == Backup.Kind.MANUAL and backup.created_by == staff
    html = client.get(f"/backups/{backup_id}/status/").content.decode()
    assert 'data-testid="backup-good"' in html and 'hx-trigger="every' not in html
    # A backup is the installation's, not a tenant's: it goes on the system chain.
    event = SystemEvent.objects.get(action=AuditEvent.Action.BACKUP_CREATED, object_id=str(backup_id))
    assert event.process == "celery:backup_now" and event.actor == staff


@pytest.mark.django_db(transaction=True)
def test_a_backup_task_that_loses_the_race_for_the_lock_says_so(staff, celery_worker):
    """A backup that took the lock after "Back up now" checked it: the task does nothing and the page says so."""
    client = login(staff)
    with backup_lock_held_elsewhere():
        pending_url = f"/backups/now/{backup_now.delay(user_id=staff.pk).id}/"

        def busy_page():
            page = client.get(pending_url).content.decode()
            return page if "backup-busy" in page else None

        html = wait_for(busy_page)
    assert "Another backup was already running" in html and 'hx-trigger="every' not in html
    assert Backup.objects.count() == 0


# -- restores whose worker died ------------------------------------------------------


def _held_elsewhere(run_id):
    """A live worker in another session: holds the run's lock until the returned event is set."""
    import threading

    from django.db import connections

    taken, done = threading.Event(), threading.Event()

    def worker():
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s, %s)", [restore.RESTORE_LOCK, run_id])
            taken.set()
            done.wait(30)
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [restore.RESTORE_LOCK, run_id])
        connections["default"].close()

    thread = threading.Thread(target=worker)
    thread.start()
    assert taken.wait(10)
    return done, thread


@pytest.mark.django_db
def test_a_restore_whose_worker_died_shows_as_failed_and_is_audited(north, backup_dir):
    from audit.models import AuditEvent

    run = fake_run(fake_backup(backup_dir), north["tenant"], phase="copying rows")
    restore.release(run.pk)  # the worker's connection is gone
    page = login(north["admin"]).get(f"/backups/restores/{run.pk}/").content.decode()
    run.refresh_from_db()
    assert (run.status, run.error, run.phase) == (RestoreRun.Status.FAILED, restore.DEAD_WORKER, "")
    assert run.finished_at is not None and "stopped before it finished" in page
    assert AuditEvent.objects.filter(tenant=north["tenant"], action="restore_failed").exists()


@pytest.mark.django_db
def test_a_restore_a_live_worker_holds_stays_running(north, backup_dir):
    run = fake_run(fake_backup(backup_dir), north["tenant"], phase="copying rows")
    restore.release(run.pk)
    done, thread = _held_elsewhere(run.pk)
    try:
        assert restore.mark_stale_restores() == 0
        login(north["admin"]).get(f"/backups/restores/{run.pk}/")
        run.refresh_from_db()
        assert run.status == RestoreRun.Status.RUNNING
    finally:
        done.set()
        thread.join()
    assert restore.mark_stale_restores() == 1


@pytest.mark.django_db
def test_a_queued_restore_no_worker_took_is_failed_only_after_a_long_wait(north, backup_dir):
    run = fake_run(fake_backup(backup_dir), north["tenant"], phase=QUEUED)
    assert restore.mark_stale_restores() == 0
    RestoreRun.objects.filter(pk=run.pk).update(
        started_at=timezone.now() - restore.UNCLAIMED_FOR - timedelta(minutes=1)
    )
    assert restore.mark_stale_restores() == 1
    run.refresh_from_db()
    assert (run.status, run.error) == (RestoreRun.Status.FAILED, restore.NEVER_TAKEN)
    # A late delivery of its task does nothing.
    assert run_restore(run.pk) is None
