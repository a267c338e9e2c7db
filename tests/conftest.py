import os
from contextlib import contextmanager

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client
from django.utils import translation

from crm.tenancy.context import activate
from tests.factories import PASSWORD, RecordMaker, make_member, make_tenant


@contextmanager
def connecting_as(credentials: dict):
    """Connections opened inside the block log in with `credentials` (USER, PASSWORD)."""
    database = connection.settings_dict
    saved = {key: database.get(key, "") for key in credentials}
    database.update(credentials)
    try:
        yield
    finally:
        database.update(saved)


def app_role() -> dict:
    return {"USER": django_settings.DATABASE_APP_ROLE, "PASSWORD": ""}


CREATE_APP_ROLE = """
DO $$ BEGIN
    CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$
"""


# CRM_TEST_ROLE=app runs the whole suite as the application's role, behind row-level security as
# in production (docs/rls.md, "What remains": tests that read outside any company still fail).
# By default the suite connects as the owner, and the tests of the wall take the role themselves.
WHOLE_SUITE_AS_APP_ROLE = os.environ.get("CRM_TEST_ROLE", "") == "app"


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings):
    """The test database is created and migrated by the owner role (docs/rls.md)."""
    connection.settings_dict.update(django_settings.SYSTEM_DATABASE)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Give the application's role (not a superuser, not BYPASSRLS, not the tables' owner) its
    rights on the test database. The role is the cluster's, created here when missing (the owner
    of a test server may create roles)."""
    role = django_settings.DATABASE_APP_ROLE
    with django_db_blocker.unblock():
        from crm.tenancy import rls

        with connection.cursor() as cursor:
            cursor.execute(CREATE_APP_ROLE.format(role=connection.ops.quote_name(role)))
            assert rls.grant_app_role(cursor, role)
        connection.close()
    if WHOLE_SUITE_AS_APP_ROLE:
        connection.settings_dict.update(app_role())
    yield
    connection.close()
    connection.settings_dict.update(django_settings.SYSTEM_DATABASE)  # the owner drops the database


@pytest.fixture
def as_app_role(request):
    """The test runs as the application's role, held by row-level security. In a test's
    transaction: SET LOCAL ROLE (the rollback ends it). A transactional test reconnects as it."""
    marker = request.node.get_closest_marker("django_db")
    transactional = {"transactional_db", "live_server"} & set(request.fixturenames)
    if transactional or (marker and marker.kwargs.get("transaction")):
        connection.close()
        with connecting_as(app_role()):
            yield
        connection.close()
        return
    request.getfixturevalue("db")
    with connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL ROLE {connection.ops.quote_name(django_settings.DATABASE_APP_ROLE)}")
    yield


@pytest.fixture
def tenant(db):
    return make_tenant("alpha", name="Alpha Ltd")


@pytest.fixture
def other_tenant(db):
    return make_tenant("beta", name="Beta GmbH")


@pytest.fixture
def admin_user(tenant):
    return make_member(tenant, "alice", role="admin")


@pytest.fixture
def records(tenant, admin_user):
    return RecordMaker(tenant, admin_user)


@pytest.fixture
def other_records(other_tenant):
    return RecordMaker(other_tenant, make_member(other_tenant, "bob", role="admin"))


@pytest.fixture
def in_tenant(tenant, admin_user):
    """Run the test body with `tenant` active, as its admin."""
    with activate(tenant, user=admin_user, process="tests"):
        yield tenant


@pytest.fixture
def celery_worker(transactional_db):
    """A real Celery worker on the real Redis broker, in a thread of this process."""
    from celery.contrib.testing.worker import start_worker

    from crm.celery import app

    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30) as worker:
        yield worker


def login(user, language=None) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    if language:
        client.post("/accounts/language/", {"language": language})
    return client


@pytest.fixture
def member_client(tenant):
    """client = member_client(role): a logged-in browser session of a new member."""

    def make(role="admin", username=None):
        user = make_member(tenant, username, role=role)
        client = login(user)
        client.user = user
        return client

    return make


@pytest.fixture(autouse=True)
def default_language():
    """A request in Chinese leaves Chinese active in the test process: each test starts in English."""
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Tests create many users; production hashing is deliberately slow."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True, scope="session")
def celery_queue_per_test_process():
    """Parallel test processes share one Redis: each gets its own queue, so a worker never
    runs a task sent by another process (which uses another test database)."""
    import os

    from crm.celery import app

    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    app.conf.task_default_queue = f"tests-{worker}"
    yield


@pytest.fixture(autouse=True)
def backup_dir(settings, tmp_path):
    """Each test's own BACKUP_DIR (never a developer's var/backups nor another test's: verify_audit
    compares the chains with the heads recorded next to the backups), unencrypted and without a
    second copy unless the test sets them, whatever the environment says."""
    settings.BACKUP_DIR = tmp_path / "backups"
    settings.BACKUP_ENCRYPTION_KEY = ""
    settings.BACKUP_ENCRYPTION_KEY_FILE = ""
    settings.BACKUP_COPY_TO = ""
    return settings.BACKUP_DIR


@pytest.fixture(autouse=True)
def audit_tables_can_be_flushed(request):
    """Django ends a transactional test with a flush, one TRUNCATE of every table, which the audit
    tables refuse (audit/migrations/0008_chain_heads). Just before it, this connection reconnects as
    the owner (the application's role may not TRUNCATE) and stops firing triggers
    (session_replication_role = replica: the test database's owner is a superuser); the flush then
    closes the connection, and the next one is the application's role again."""
    marker = request.node.get_closest_marker("django_db")
    flushing = {"transactional_db", "live_server"} & set(request.fixturenames)
    if not (flushing or (marker and marker.kwargs.get("transaction"))):
        yield
        return
    for name in sorted(flushing):
        request.getfixturevalue(name)  # set up before this fixture, so torn down (flushed) after it
    yield
    connection.close()
    with connecting_as(django_settings.SYSTEM_DATABASE):
        connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
