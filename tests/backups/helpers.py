"""Shared builders for the backup page and API tests."""

import base64
import json
import time
from contextlib import contextmanager
from itertools import count

from django.conf import settings
from django.utils import timezone

from backups import postgres, restore
from backups.dump import LOCK_KEY, backup_running
from backups.models import Backup, RestoreRun
from backups.storage import sha256_of

_files = count(1)
KEY = base64.urlsafe_b64encode(bytes(range(32))).decode()  # a backup encryption key for tests


def fake_backup(directory, status=Backup.Status.GOOD, **values):
    """A Backup row whose file exists (its content is never read by the pages or endpoints)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"fake-{next(_files)}.dump"
    path.write_bytes(b"dump")
    values.setdefault("started_at", timezone.now())
    values.setdefault("manifest", {"migrations": postgres.applied_migrations(), "row_counts": {}})
    return Backup.objects.create(status=status, path=str(path), **values)


def good_backup_file(directory, when, **values) -> Backup:
    """A good Backup row with its dump and manifest in BACKUP_DIR, as take_backup names and records them."""
    directory.mkdir(parents=True, exist_ok=True)
    row = Backup.objects.create(started_at=when, status=Backup.Status.GOOD, **values)
    path = directory / f"crm-{when:%Y%m%dT%H%M%SZ}-{row.pk}.dump"
    path.write_bytes(f"dump {row.pk}".encode())
    path.with_suffix(".json").write_text("{}")
    digest, size = sha256_of(path)
    Backup.objects.filter(pk=row.pk).update(path=str(path), sha256=digest, size=size)
    row.refresh_from_db()
    return row


def fake_run(backup, tenant, **values):
    """A RestoreRun row; a running one past "queued" is held as a live worker would hold it."""
    values.setdefault("scope", RestoreRun.Scope.TENANT)
    values.setdefault("target", tenant.slug if tenant else "copy")
    run = RestoreRun.objects.create(backup=backup, tenant=tenant, started_at=timezone.now(), **values)
    if run.status == RestoreRun.Status.RUNNING and run.phase != restore.QUEUED:
        restore.hold(run.pk)
    return run


def queued_tasks(name: str) -> list[dict]:
    """The `name` tasks waiting in this test process's queue on the real Redis broker (tests/conftest.py
    gives each xdist worker its own queue): [{"id": task id, "args": [...], "kwargs": {...}}]."""
    from crm.celery import app

    with app.connection_for_write() as conn:
        raw = conn.default_channel.client.lrange(app.conf.task_default_queue, 0, -1)
    found = []
    for item in raw:
        message = json.loads(item)
        if message["headers"]["task"] == name:
            args, kwargs, _embed = json.loads(base64.b64decode(message["body"]))
            found.append({"id": message["headers"]["id"], "args": args, "kwargs": kwargs})
    return found


@contextmanager
def backup_lock_held_elsewhere():
    """Another session holds the one-backup lock (as a running backup's worker does) until the block ends."""
    other = postgres.connect(settings.DATABASES["default"]["NAME"])
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s, %s)", LOCK_KEY)
        yield
    finally:
        other.close()
    # The server lets go of a closed session's locks a moment later.
    deadline = time.monotonic() + 10
    while backup_running() and time.monotonic() < deadline:
        time.sleep(0.05)
