"""Backups over the API: who sees what, starting a backup (staff), restoring the company or a customer.

Permission, shape and validation tests use Backup rows with a stand-in file and
never reach a worker (non-transactional tests: the restore's on-commit hand-off
to Celery never fires; "back up now" is read back from the real Redis queue and purged). The end-to-end
tests take real backups and run the tasks on a real Celery worker (real
PostgreSQL and Redis), then read the outcome through the status endpoints.
"""

import json
import re
import time
import uuid
from datetime import timedelta

import pytest
import schemathesis
from django.conf import settings as django_settings
from django.core import signals
from django.db import close_old_connections, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from rest_framework.test import APIClient
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from audit.models import AuditEvent, SystemEvent
from backups import postgres, restore
from backups.dump import LOCK_KEY, backup_running, take_backup
from backups.models import Backup, RestoreDrill, RestoreRun
from backups.tasks import QUEUED
from crm.celery import app
from crm.recyclebin import actions as recyclebin
from crm.recyclebin.actions import Item
from crm.tenancy.actions import add_member
from crm.tenancy.context import activate
from customers.models import Customer
from tests.api.conftest import error_of, token_client
from tests.backups.helpers import fake_backup, fake_run
from tests.factories import RecordMaker, make_member, make_tenant

BACKUPS = "/api/v1/backups/"
RESTORES = "/api/v1/backups/restores/"
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
    return {
        "tenant": tenant,
        "admin": admin,
        "maker": maker,
        "customers": customers,
        "api": token_client(tenant, admin),
    }


@pytest.fixture
def south(db):
    tenant = make_tenant("south", name="South Shipping")
    admin = make_member(tenant, "south-admin", role="admin")
    RecordMaker(tenant, admin).customer(name="South customer")
    return {"tenant": tenant, "admin": admin, "api": token_client(tenant, admin)}


@pytest.fixture
def staff(north):
    """An operator: staff, and only a viewer in the company whose token they use."""
    user = make_member(north["tenant"], "operator", role="viewer")
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    return token_client(north["tenant"], user)


@pytest.fixture
def queued_backups():
    """The "back up now" tasks waiting in this test process's queue on the real Redis broker.

    Emptied before and after, so no queued backup reaches a worker of a later test.
    """
    from crm.celery import app

    def waiting() -> list[dict]:
        with app.connection_for_write() as conn:
            raw = conn.default_channel.client.lrange(app.conf.task_default_queue, 0, -1)
        messages = [json.loads(item) for item in raw]
        return [
            {"task": message["headers"]["task"], "id": message["headers"]["id"]}
            for message in messages
            if message["headers"]["task"] == "backups.tasks.backup_now"
        ]

    app.control.purge()
    yield waiting
    app.control.purge()


def restore_url(backup) -> str:
    return f"{BACKUPS}{backup.pk}/restore/"


# -- who may do what ------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["manager", "rep", "support", "viewer"])
def test_only_company_admins_and_staff_see_backups(role, north, backup_dir, queued_backups):
    backup = fake_backup(backup_dir)
    run = fake_run(backup, north["tenant"])
    client = token_client(north["tenant"], make_member(north["tenant"], role=role))
    for url in (BACKUPS, f"{BACKUPS}{backup.pk}/", RESTORES, f"{RESTORES}{run.pk}/", f"{BACKUPS}tasks/{uuid.uuid4()}/"):
        assert error_of(client.get(url), 403)["code"] == "permission_denied", url
    error = error_of(client.post(restore_url(backup), {"scope": "tenant"}, format="json"), 403)
    assert "administrators of this company" in error["message"]
    assert "Only staff" in error_of(client.post(BACKUPS), 403)["message"]
    assert RestoreRun.objects.count() == 1 and queued_backups() == []


@pytest.mark.django_db
def test_no_or_a_bad_token_is_a_401(north, backup_dir):
    backup = fake_backup(backup_dir)
    anonymous = APIClient()
    for response in (
        anonymous.get(BACKUPS),
        anonymous.get(f"{BACKUPS}{backup.pk}/"),
        anonymous.post(BACKUPS),
        anonymous.post(restore_url(backup), {"scope": "tenant"}, format="json"),
        anonymous.get(f"{RESTORES}1/"),
    ):
        assert error_of(response, 401)["code"] == "not_authenticated"
        assert response["WWW-Authenticate"] == "Token"
    anonymous.credentials(HTTP_AUTHORIZATION="Token nonsense")
    assert error_of(anonymous.get(BACKUPS), 401)["code"] == "authentication_failed"
    assert RestoreRun.objects.count() == 0


@pytest.mark.django_db
def test_starting_a_backup_is_for_staff_only(north, staff, queued_backups, django_capture_on_commit_callbacks):
    error = error_of(north["api"].post(BACKUPS), 403)
    assert error["code"] == "permission_denied" and "Only staff" in error["message"]
    assert error_of(north["api"].get(f"{BACKUPS}tasks/{uuid.uuid4()}/"), 403)["code"] == "permission_denied"
    assert queued_backups() == []

    with django_capture_on_commit_callbacks(execute=True):  # the task is sent once the request's work commits
        response = staff.post(BACKUPS)

    assert response.status_code == 202, response.content
    body = response.json()
    [queued] = queued_backups()
    assert body == {
        "task": queued["id"],
        "url": f"/api/v1/backups/tasks/{queued['id']}/",
        "state": "queued",
        "backup": None,
        "backup_url": None,
        "error": None,
    }
    assert response["Location"] == body["url"]


@pytest.mark.django_db
def test_staff_who_are_not_company_admins_cannot_restore_it(staff, backup_dir):
    backup = fake_backup(backup_dir)
    error = error_of(staff.post(restore_url(backup), {"scope": "tenant"}, format="json"), 403)
    assert error["code"] == "permission_denied"
    assert RestoreRun.objects.count() == 0


@pytest.mark.django_db
def test_starting_a_backup_while_another_runs_is_a_409(staff, queued_backups, django_capture_on_commit_callbacks):
    other = postgres.connect(django_settings.DATABASES["default"]["NAME"])
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s, %s)", LOCK_KEY)
        with django_capture_on_commit_callbacks(execute=True):
            error = error_of(staff.post(BACKUPS), 409)
    finally:
        other.close()
    assert error == {
        "code": "backup_running",
        "message": "Another backup is running; wait until it ends.",
        "fields": {},
    }
    assert queued_backups() == []
    # The lock goes with the other session (the server notices the closed connection a moment later).
    wait_for(lambda: not backup_running(), timeout=10)
    with django_capture_on_commit_callbacks(execute=True):
        assert staff.post(BACKUPS).status_code == 202
    assert len(queued_backups()) == 1


# -- reading ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_admin_sees_the_history_with_the_last_drill_and_restore_options(north, staff, backup_dir):
    good = fake_backup(backup_dir, kind=Backup.Kind.MANUAL, size=5 * 1024 * 1024, duration=75.4, sha256="ab" * 32)
    Backup.objects.filter(pk=good.pk).update(created_by=staff.user)
    RestoreDrill.objects.create(
        backup=good, started_at=timezone.now() - timedelta(days=7), passed=False, error="old drill"
    )
    drill = RestoreDrill.objects.create(backup=good, started_at=timezone.now(), passed=True, restore_seconds=2.5)
    failed = fake_backup(
        backup_dir, status=Backup.Status.FAILED, error="pg_dump exited with 1: secret detail", duration=3.2
    )
    RestoreDrill.objects.create(
        backup=failed, started_at=timezone.now(), passed=False, error="drill detail", mismatches=[{"table": "x"}]
    )
    pruned = fake_backup(backup_dir, status=Backup.Status.PRUNED, started_at=timezone.now() - timedelta(days=90))
    running = fake_backup(backup_dir, status=Backup.Status.RUNNING, phase="dumping", started_at=timezone.now())

    response = north["api"].get(BACKUPS)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 4 and body["next"] is None
    rows = {row["id"]: row for row in body["results"]}
    assert [row["id"] for row in body["results"]] == [running.pk, failed.pk, good.pk, pruned.pk]  # newest first
    assert rows[good.pk] == {
        "id": good.pk,
        "url": f"{BACKUPS}{good.pk}/",
        "kind": "manual",
        "status": "good",
        "phase": "",
        "started_at": rows[good.pk]["started_at"],
        "finished_at": None,
        "duration": 75.4,
        "size": 5 * 1024 * 1024,
        "sha256": "ab" * 32,
        "checked_at": None,
        "copy_location": None,  # where the second copy is: staff only
        "error": None,
        "created_by": None,  # who started it: staff only
        "os_user": None,  # which OS account ran it from the command line: staff only
        "last_drill": {
            "id": drill.pk,  # the newest, not the older failed one
            "started_at": rows[good.pk]["last_drill"]["started_at"],
            "finished_at": None,
            "passed": True,
            "restore_seconds": 2.5,
            "mismatches": 0,
            "error": None,
        },
        "restore_options": ["tenant", "customer"],
        "restore_url": f"{BACKUPS}{good.pk}/restore/",
        "customers_url": f"{BACKUPS}{good.pk}/customers/",
    }
    assert rows[failed.pk]["status"] == "failed" and rows[failed.pk]["error"] is None  # details are for staff
    assert rows[failed.pk]["last_drill"]["error"] is None and rows[failed.pk]["last_drill"]["mismatches"] == 1
    assert rows[running.pk]["phase"] == "dumping"
    for pk in (failed.pk, pruned.pk, running.pk):
        assert rows[pk]["restore_options"] == [] and rows[pk]["restore_url"] is None
    assert "secret detail" not in response.content.decode()
    assert north["api"].get(f"{BACKUPS}{good.pk}/").json() == rows[good.pk]


@pytest.mark.django_db
def test_staff_see_failure_details_and_who_started_a_backup(north, staff, backup_dir):
    failed = fake_backup(backup_dir, status=Backup.Status.FAILED, error="pg_dump exited with 1: disk full")
    RestoreDrill.objects.create(backup=failed, started_at=timezone.now(), passed=False, error="scratch refused")
    good = fake_backup(backup_dir, created_by=staff.user, os_user="backup-operator")

    rows = {row["id"]: row for row in staff.get(BACKUPS).json()["results"]}

    assert rows[failed.pk]["error"] == "pg_dump exited with 1: disk full"
    assert rows[failed.pk]["last_drill"]["error"] == "scratch refused"
    assert rows[good.pk]["created_by"] == {"id": staff.user.pk, "username": "operator"}
    assert rows[good.pk]["os_user"] == "backup-operator"
    assert rows[good.pk]["error"] is None
    # Staff who are not admins of the company have no company restore options.
    assert rows[good.pk]["restore_options"] == [] and rows[good.pk]["restore_url"] is None
    detail = staff.get(f"{BACKUPS}{failed.pk}/").json()
    assert detail["error"] == "pg_dump exited with 1: disk full"

    # Staff who are also admins of the company have both.
    add_member(north["tenant"], "operator", role="admin", acting_user=None)
    assert staff.get(f"{BACKUPS}{good.pk}/").json()["restore_options"] == ["tenant", "customer"]


@pytest.mark.django_db
def test_bad_ids_and_query_parameters(north, staff):
    for client in (north["api"], staff):
        for url in (f"{BACKUPS}999999/", f"{RESTORES}999999/"):
            assert error_of(client.get(url), 404)["code"] == "not_found"
        for url in (f"{BACKUPS}{'9' * 25}/", f"{BACKUPS}abc/", f"{RESTORES}abc/", f"{BACKUPS}tasks/not-a-task/"):
            assert error_of(client.get(url), 404)["code"] == "not_found"
    assert error_of(north["api"].get(f"{BACKUPS}999999/"), 404)["message"] == "No backup with id 999999."
    error = error_of(north["api"].post(f"{BACKUPS}999999/restore/", {"scope": "tenant"}, format="json"), 404)
    assert error["message"] == "No backup with id 999999."
    # Who may restore is decided before which backup: staff who are not admins of the company get a 403.
    error_of(staff.post(f"{BACKUPS}999999/restore/", {"scope": "tenant"}, format="json"), 403)
    assert "stauts" in error_of(north["api"].get(BACKUPS, {"stauts": "good"}), 400)["fields"]
    assert "page_size" in error_of(north["api"].get(BACKUPS, {"page_size": 201}), 400)["fields"]
    error_of(north["api"].get(RESTORES, {"x\x00": "1"}), 400)
    error_of(north["api"].get(BACKUPS, {"page": 2}), 404)
    # Methods the resource does not have.
    assert error_of(staff.delete(f"{BACKUPS}1/"), 405)["code"] == "method_not_allowed"
    assert error_of(staff.put(RESTORES), 405)["code"] == "method_not_allowed"


@pytest.mark.django_db
def test_the_lists_run_a_constant_number_of_queries(north, staff, backup_dir):
    def add(count):
        for _n in range(count):
            backup = fake_backup(backup_dir, size=1000, duration=1.0, created_by=staff.user)
            RestoreDrill.objects.create(backup=backup, started_at=timezone.now(), passed=True)
            RestoreDrill.objects.create(backup=backup, started_at=timezone.now(), passed=False)
            fake_run(backup, north["tenant"], created_by=north["admin"], safety_backup=backup)
            fake_run(backup, None, scope=RestoreRun.Scope.DATABASE, target="crm_copy", created_by=staff.user)

    counts = []
    for client in (north["api"], staff):
        for url in (BACKUPS, RESTORES):
            client.get(url)  # warm up: the token's last-used stamp
            for count in (2, 10):
                add(count)
                with CaptureQueriesContext(connection) as queries:
                    response = client.get(url, {"page_size": 200})
                assert response.status_code == 200
                assert len(response.json()["results"]) >= count
                counts.append(len(queries))
    assert counts[0::2] == counts[1::2], counts


@pytest.mark.django_db
def test_restores_are_listed_per_company_and_another_companys_run_is_a_404(north, south, staff, backup_dir):
    backup = fake_backup(backup_dir)
    mine = fake_run(backup, north["tenant"], status=RestoreRun.Status.DONE, report={"rows": {"customers_customer": 2}})
    theirs = fake_run(backup, south["tenant"])
    whole = fake_run(backup, None, scope=RestoreRun.Scope.DATABASE, target="crm_copy")
    # The hardest case: north's admin is an admin of south too; the token's company decides.
    add_member(south["tenant"], "north-admin", role="admin", acting_user=None)
    admin = north["api"]

    assert [row["id"] for row in admin.get(RESTORES).json()["results"]] == [mine.pk]
    shown = admin.get(f"{RESTORES}{mine.pk}/").json()
    assert shown["status"] == "done" and shown["rows"] == {"customers_customer": 2} and shown["rows_restored"] == 2
    for run in (theirs, whole):
        error = error_of(admin.get(f"{RESTORES}{run.pk}/"), 404)
        assert error["code"] == "not_found" and error["message"] == f"No restore with id {run.pk}."

    assert [row["id"] for row in staff.get(RESTORES).json()["results"]] == [whole.pk]
    assert staff.get(f"{RESTORES}{whole.pk}/").json()["target"] == "crm_copy"
    error_of(staff.get(f"{RESTORES}{theirs.pk}/"), 404)
    error_of(staff.get(f"{RESTORES}{mine.pk}/"), 404)  # staff who are not admins of the company

    assert [row["id"] for row in south["api"].get(RESTORES).json()["results"]] == [theirs.pk]
    error_of(south["api"].get(f"{RESTORES}{mine.pk}/"), 404)


# -- restoring: input and refusals ------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "scope"),
        ({"scope": "database"}, "scope"),
        ({"scope": None}, "scope"),
        ({"scope": ["tenant"]}, "scope"),
        ({"scope": "tenant\x00"}, "scope"),
        ({"scope": "customer"}, "customer"),
        ({"scope": "customer", "customer": None}, "customer"),
        ({"scope": "customer", "customer": "abc"}, "customer"),
        ({"scope": "customer", "customer": 1.5}, "customer"),
        ({"scope": "customer", "customer": True}, "customer"),
        ({"scope": "customer", "customer": 0}, "customer"),
        ({"scope": "customer", "customer": 2**63}, "customer"),
        ({"scope": "customer", "customer": "1e3"}, "customer"),
        ({"scope": "tenant", "customer": 5}, "customer"),
        ({"scope": "tenant", "confirm": True}, "confirm"),
    ],
)
def test_a_bad_restore_request_is_a_400_naming_the_field(body, field, north, backup_dir):
    backup = fake_backup(backup_dir)
    error = error_of(north["api"].post(restore_url(backup), body, format="json"), 400)
    assert error["code"] == "invalid" and field in error["fields"], error
    assert RestoreRun.objects.count() == 0


@pytest.mark.django_db
def test_a_non_object_or_malformed_body_is_a_400_and_form_data_a_415(north, backup_dir):
    backup = fake_backup(backup_dir)
    for raw in ("[1]", '"tenant"', "null", "{"):
        error_of(north["api"].post(restore_url(backup), data=raw, content_type="application/json"), 400)
    response = north["api"].post(
        restore_url(backup), data="scope=tenant", content_type="application/x-www-form-urlencoded"
    )
    assert error_of(response, 415)["code"] == "unsupported_media_type"
    assert RestoreRun.objects.count() == 0


@pytest.mark.django_db
def test_a_failed_pruned_running_missing_or_foreign_schema_backup_is_a_409(north, backup_dir):
    failed = fake_backup(backup_dir, status=Backup.Status.FAILED)
    pruned = fake_backup(backup_dir, status=Backup.Status.PRUNED)
    running = fake_backup(backup_dir, status=Backup.Status.RUNNING)
    missing = fake_backup(backup_dir)
    Backup.objects.filter(pk=missing.pk).update(path=missing.path + ".gone")
    other_schema = fake_backup(backup_dir, manifest={"migrations": ["customers.0001_initial"]})
    expected = {
        failed: "failed",
        pruned: "removed by the retention policy",
        running: "still running",
        missing: "missing",
        other_schema: "different version of the database schema",
    }
    for backup, words in expected.items():
        for body in ({"scope": "tenant"}, {"scope": "customer", "customer": 1}):
            error = error_of(north["api"].post(restore_url(backup), body, format="json"), 409)
            assert error["code"] == "backup_not_restorable" and words in error["message"], error
    assert RestoreRun.objects.count() == 0


@pytest.mark.django_db
def test_a_second_restore_while_one_runs_is_a_409_naming_it(north, south, backup_dir):
    backup = fake_backup(backup_dir)
    running = fake_run(backup, north["tenant"], phase="safety backup")
    fake_run(backup, south["tenant"])  # another company's restore blocks nothing here
    for body in ({"scope": "tenant"}, {"scope": "customer", "customer": 5}):
        error = error_of(north["api"].post(restore_url(backup), body, format="json"), 409)
        assert error["code"] == "restore_running" and f"restore {running.pk}" in error["message"]
    # One whose worker died does not block.
    restore.release(running.pk)
    assert north["api"].post(restore_url(backup), {"scope": "tenant"}, format="json").status_code == 202


@pytest.mark.django_db
def test_a_restore_is_queued_and_answered_with_the_run(north, backup_dir):
    backup = fake_backup(backup_dir)

    response = north["api"].post(restore_url(backup), {"scope": "tenant"}, format="json")

    assert response.status_code == 202, response.content
    run = RestoreRun.objects.get()
    assert (run.tenant, run.scope, run.target, run.phase, run.created_by) == (
        north["tenant"],
        "tenant",
        "north",
        QUEUED,
        north["admin"],
    )
    body = response.json()
    assert response["Location"] == body["url"] == f"{RESTORES}{run.pk}/"
    assert body["status"] == "running" and body["phase"] == "queued" and body["customer"] is None
    assert body["backup"] == backup.pk and body["conflicts"] == [] and body["error"] is None
    assert body["created_by"] == {"id": north["admin"].pk, "username": "north-admin"}
    assert north["api"].get(body["url"]).json() == body


# -- the schema ------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_schema_declares_every_backup_operation_and_its_errors(north):
    document = north["api"].get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    operations = {
        (method, path): operation
        for path, methods in document["paths"].items()
        if path.startswith(BACKUPS)
        for method, operation in methods.items()
    }
    assert set(operations) == {
        ("get", "/api/v1/backups/"),
        ("post", "/api/v1/backups/"),
        ("get", "/api/v1/backups/{id}/"),
        ("post", "/api/v1/backups/{id}/restore/"),
        ("get", "/api/v1/backups/{id}/customers/"),
        ("get", "/api/v1/backups/restores/"),
        ("get", "/api/v1/backups/restores/{id}/"),
        ("get", "/api/v1/backups/tasks/{task}/"),
    }
    for (method, path), operation in operations.items():
        codes = set(operation["responses"])
        assert {"400", "401", "403", "404", "429"} <= codes, (method, path)
        if method == "post":
            assert {"202", "409"} <= codes and "Location" in operation["responses"]["202"]["headers"]
    restore = operations[("post", "/api/v1/backups/{id}/restore/")]
    assert "415" in restore["responses"]
    assert "backup_not_restorable" in restore["responses"]["409"]["description"]
    schemas = document["components"]["schemas"]
    assert set(schemas["BackupRestoreRequest"]["discriminator"]["mapping"]) == {"tenant", "customer"}
    assert schemas["CustomerRestoreRequest"]["additionalProperties"] is False
    assert set(schemas["CustomerRestoreRequest"]["required"]) == {"scope", "customer"}


@pytest.fixture
def in_process_requests():
    """Let the WSGI app run inside the test's transaction (as Django's test client does)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


# POST /api/v1/backups/ is left out: every accepted example would queue a real backup of the
# database for whatever worker next reads this queue. Its contract is tested above against the queue.
FUZZED = [
    ("/api/v1/backups/", "GET"),
    ("/api/v1/backups/{id}/", "GET"),
    ("/api/v1/backups/{id}/restore/", "POST"),
    ("/api/v1/backups/{id}/customers/", "GET"),
    ("/api/v1/backups/restores/", "GET"),
    ("/api/v1/backups/restores/{id}/", "GET"),
    ("/api/v1/backups/tasks/{task}/", "GET"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("path", "method"), FUZZED, ids=[f"{m} {p}" for p, m in FUZZED])
def test_the_backup_operations_conform_to_the_schema_for_staff_admins(
    path, method, north, backup_dir, settings, in_process_requests
):
    """Like tests/api/test_schemathesis.py, but as a staff member who is also the company's admin, with
    backups, drills and restores to show, so every field of every success response is checked too.
    (Restores are queued inside the test's transaction: their hand-off to a worker never happens.)"""
    from crm.wsgi import application

    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"api": "100000/min"}}
    north["admin"].is_staff = True
    north["admin"].save(update_fields=["is_staff"])
    good = fake_backup(backup_dir, size=10, duration=1.5, created_by=north["admin"])
    RestoreDrill.objects.create(backup=good, started_at=timezone.now(), passed=False, mismatches=[{"t": 1}])
    fake_backup(backup_dir, status=Backup.Status.FAILED, error="disk full")
    run = fake_run(
        good,
        north["tenant"],
        status=RestoreRun.Status.REFUSED,
        scope=RestoreRun.Scope.CUSTOMER,
        target="7",
        report={"conflicts": ["customers_customer 7 exists in the live database"]},
        created_by=north["admin"],
    )
    pinned = {
        ("GET", "/api/v1/backups/{id}/"): {"id": good.pk},
        ("POST", "/api/v1/backups/{id}/restore/"): {"id": good.pk},
        ("GET", "/api/v1/backups/{id}/customers/"): {"id": good.pk},
        ("GET", "/api/v1/backups/restores/{id}/"): {"id": run.pk},
    }.get((method, path))
    operation = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)[path][method]
    strategy = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE, path_parameters=pinned),
        operation.as_strategy(GenerationMode.NEGATIVE, path_parameters=pinned),
    )
    headers = {"Authorization": f"Token {north['api'].token.key}"}
    checks = [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_headers_conformance,
        response_schema_conformance,
    ]

    @given(case=strategy)
    @hypothesis_settings(
        max_examples=15, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
    )
    def run_case(case):
        case.call_and_validate(headers=headers, checks=checks)

    run_case()


# -- the task status ---------------------------------------------------------------------


@pytest.mark.django_db
def test_the_task_status_says_queued_busy_or_failed(staff):
    unknown = str(uuid.uuid4())
    assert staff.get(f"{BACKUPS}tasks/{unknown}/").json()["state"] == "queued"

    busy, broken = str(uuid.uuid4()), str(uuid.uuid4())
    app.backend.store_result(busy, {"backup_id": None, "busy": True}, "SUCCESS")
    app.backend.store_result(broken, RuntimeError("worker lost its disk"), "FAILURE")
    try:
        shown = staff.get(f"{BACKUPS}tasks/{busy}/").json()
        assert shown["state"] == "busy" and shown["backup"] is None and shown["error"] is None
        shown = staff.get(f"{BACKUPS}tasks/{broken}/").json()
        assert shown["state"] == "failed" and "worker lost its disk" in shown["error"]
    finally:
        app.AsyncResult(busy).forget()
        app.AsyncResult(broken).forget()


# -- end to end on a real worker ------------------------------------------------------


def wait_for(check, timeout=TIMEOUT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out after {timeout}s waiting for {check}")


def ended(client, url):
    """Poll a restore's status URL until it is no longer running; return its body."""

    def check():
        response = client.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        return body if body["status"] != "running" else None

    return wait_for(check)


def started_restore(response) -> str:
    assert response.status_code == 202, response.content
    assert re.fullmatch(r"/api/v1/backups/restores/\d+/", response["Location"])
    return response["Location"]


@pytest.mark.django_db(transaction=True)
def test_back_up_now_through_the_api_on_a_worker_produces_a_good_backup(staff, celery_worker):
    response = staff.post(BACKUPS)

    assert response.status_code == 202, response.content
    task_url = response["Location"]
    assert re.fullmatch(r"/api/v1/backups/tasks/[0-9a-f-]{36}/", task_url)

    def created():
        body = staff.get(task_url).json()
        assert body["state"] in ("queued", "created"), body
        return body if body["state"] == "created" else None

    task = wait_for(created)
    try:
        backup_url = task["backup_url"]
        assert backup_url == f"{BACKUPS}{task['backup']}/"

        def finished():
            body = staff.get(backup_url).json()
            return body if body["status"] != "running" else None

        backup = wait_for(finished)
    finally:
        app.AsyncResult(task["task"]).forget()
    assert backup["status"] == "good", backup["error"]
    assert backup["kind"] == "manual" and backup["phase"] == "" and backup["error"] is None
    assert backup["size"] > 0 and backup["duration"] > 0 and len(backup["sha256"]) == 64
    assert backup["created_by"] == {"id": staff.user.pk, "username": "operator"}
    assert backup["last_drill"] is None
    event = SystemEvent.objects.get(action=AuditEvent.Action.BACKUP_CREATED, object_id=str(task["backup"]))
    assert event.process == "celery:backup_now" and event.actor == staff.user


@pytest.mark.django_db(transaction=True)
def test_a_company_restore_through_the_api_runs_on_a_worker(north, south, celery_worker):
    backup = take_backup()
    assert backup.status == Backup.Status.GOOD, backup.error
    north["maker"].customer(name="Created after the backup")
    south_after = RecordMaker(south["tenant"], south["admin"]).customer(name="South after the backup")
    offered = north["api"].get(f"{BACKUPS}{backup.pk}/").json()
    assert offered["restore_options"] == ["tenant", "customer"]

    run_url = started_restore(north["api"].post(offered["restore_url"], {"scope": "tenant"}, format="json"))
    run = ended(north["api"], run_url)

    assert run["status"] == "done", run["error"]
    assert run["scope"] == "tenant" and run["target"] == "north" and run["phase"] == ""
    assert run["rows"]["customers_customer"] == 2 and run["rows_restored"] >= 6 and run["conflicts"] == []
    safety = north["api"].get(f"{BACKUPS}{run['safety_backup']}/").json()
    assert safety["status"] == "good" and safety["kind"] == "pre_restore"
    with activate(north["tenant"]):
        assert sorted(Customer.objects.values_list("name", flat=True)) == ["North customer 0", "North customer 1"]
        assert list(Customer.deleted.values_list("name", flat=True)) == ["Created after the backup"]  # set aside
    with activate(south["tenant"]):
        assert Customer.objects.filter(pk=south_after.pk).exists()  # other companies untouched
    event = AuditEvent.objects.get(action=AuditEvent.Action.BACKUP_RESTORED, tenant=north["tenant"])
    assert event.process == "celery:restore" and event.actor == north["admin"]
    assert event.detail["restore_id"] == run["id"]
    # Another company neither sees the run nor finds it.
    error_of(south["api"].get(run_url), 404)
    assert south["api"].get(RESTORES).json()["results"] == []
    assert [row["id"] for row in north["api"].get(RESTORES).json()["results"]] == [run["id"]]


@pytest.mark.django_db(transaction=True)
def test_a_customer_restore_with_conflicts_reports_them_in_the_run(north, celery_worker):
    customer = north["customers"][1]
    backup = take_backup()
    with activate(north["tenant"], user=north["admin"]):
        recyclebin.delete(
            Customer.objects.filter(pk=customer.pk), acting_user=north["admin"]
        )  # soft: the ids still exist

    body = {"scope": "customer", "customer": customer.pk}
    run = ended(north["api"], started_restore(north["api"].post(restore_url(backup), body, format="json")))

    assert run["status"] == "refused" and run["customer"] == customer.pk and run["rows_restored"] == 0
    assert f"customers_customer {customer.pk} exists in the live database" in run["conflicts"]
    assert len(run["conflicts"]) >= 3  # the customer, its contact, its ticket
    with activate(north["tenant"]):
        assert Customer.deleted.filter(pk=customer.pk).exists()  # nothing was written


@pytest.mark.django_db(transaction=True)
def test_a_purged_customer_comes_back_through_the_api(north, celery_worker):
    customer = north["customers"][0]
    backup = take_backup()
    with activate(north["tenant"], user=north["admin"]):
        recyclebin.delete(Customer.objects.filter(pk=customer.pk), acting_user=north["admin"])
        recyclebin.purge([Item(Customer, customer.pk)], acting_user=north["admin"])

    body = {"scope": "customer", "customer": customer.pk}
    run = ended(north["api"], started_restore(north["api"].post(restore_url(backup), body, format="json")))

    assert run["status"] == "done", run["error"] or run["conflicts"]
    assert run["rows"]["customers_customer"] == 1 and run["rows_restored"] >= 3
    with activate(north["tenant"]):
        assert Customer.objects.filter(pk=customer.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_another_companys_customer_id_is_refused_before_anything_is_queued(north, south):
    backup = take_backup()
    with activate(south["tenant"]):
        theirs = Customer.objects.get()

    body = {"scope": "customer", "customer": theirs.pk}
    error = error_of(north["api"].post(restore_url(backup), body, format="json"), 400)

    assert error["fields"] == {
        "customer": [
            f"Backup #{backup.pk} holds no customer #{theirs.pk} of this company. Search for the customer by name."
        ]
    }
    assert not RestoreRun.objects.exists()
    with activate(north["tenant"]):
        assert not Customer.all_objects.filter(pk=theirs.pk, tenant=north["tenant"]).exists()
