"""A retention purge whose worker is killed half-way is resumed within minutes, not the next night,
and purges nothing twice. The worker is a real process, killed with SIGKILL."""

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from urllib.parse import quote

import psycopg2
import pytest
import time_machine
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from audit.models import AuditEvent
from crm.celery import app
from crm.records.softdelete import BIN_LOCK_NAMESPACE
from crm.recyclebin import tasks
from crm.tenancy.context import activate
from customers.models import Contact, Customer
from tests.backups.helpers import queued_tasks
from tests.factories import RecordMaker, make_member, make_tenant

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def database_url() -> str:
    db = settings.DATABASES["default"]
    password = f":{quote(db['PASSWORD'], safe='')}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{quote(db['HOST'] or '', safe='')}:{db['PORT']}/{db['NAME']}"


def other_session():
    db = settings.DATABASES["default"]
    connection = psycopg2.connect(
        dbname=db["NAME"], user=db["USER"], password=db.get("PASSWORD") or None, host=db["HOST"], port=db["PORT"]
    )
    connection.autocommit = True
    return connection


def wait_until(condition, timeout=60):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.05)


def waiting_on_a_lock(session) -> bool:
    with session.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0


@pytest.fixture
def expired(db):
    tenant = make_tenant("resume")
    records = RecordMaker(tenant, make_member(tenant, "resume-admin", role="admin"))
    with time_machine.travel(timezone.now() - timedelta(days=90), tick=False), activate(tenant):
        customers = [records.customer() for _ in range(3)]
        for customer in customers:
            records.contact(customer)
            customer.delete()
    cache.delete(tasks.PENDING)
    app.control.purge()
    yield tenant
    cache.delete(tasks.PENDING)
    app.control.purge()


def test_a_retention_purge_killed_half_way_is_resumed_soon_and_purges_nothing_twice(expired):
    tenant = expired
    blocker = other_session()
    with blocker.cursor() as cursor:  # the worker will wait for this in its first chunk
        cursor.execute("SELECT pg_advisory_lock(%s, %s)", [BIN_LOCK_NAMESPACE, tenant.pk])
    worker = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from crm.recyclebin import tasks; tasks.purge_recycle_bin()",
        ],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url(), "DJANGO_SETTINGS_MODULE": "crm.settings"},
    )
    try:
        wait_until(lambda: waiting_on_a_lock(blocker))
        assert cache.get(tasks.PENDING) is not None and tasks.retention_running()
        assert tasks.resume_interrupted_purge() is False  # alive: nothing to resume
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(10)
    finally:
        blocker.close()  # lets the dead worker's session find out and end
    wait_until(lambda: not tasks.retention_running())
    assert Customer.all_objects.filter(tenant=tenant).count() == 3  # the killed run purged nothing

    assert tasks.resume_interrupted_purge() is True
    assert len(queued_tasks("crm.recyclebin.tasks.purge_recycle_bin")) == 1
    tasks.purge_recycle_bin()  # what the worker picking up the queued task runs
    assert not Customer.all_objects.filter(tenant=tenant).exists()
    assert not Contact.all_objects.filter(tenant=tenant).exists()
    purged = AuditEvent.objects.filter(tenant=tenant, action=AuditEvent.Action.RETENTION_PURGE)
    assert sorted(pk for event in purged for pk in event.detail["ids"]) == sorted(
        {pk for event in purged for pk in event.detail["ids"]}
    )
    assert sum(event.count for event in purged) == 6
    assert cache.get(tasks.PENDING) is None
    assert tasks.resume_interrupted_purge() is False


def test_a_finished_purge_leaves_nothing_to_resume(expired):
    tasks.purge_recycle_bin()
    assert cache.get(tasks.PENDING) is None
    assert tasks.resume_interrupted_purge() is False
    assert queued_tasks("crm.recyclebin.tasks.purge_recycle_bin") == []


def test_the_sweep_is_scheduled_every_few_minutes():
    entries = {entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert entries["crm.recyclebin.tasks.resume_interrupted_purge"] <= 600
