"""Shared builders for the backup page and API tests."""

from itertools import count

from django.utils import timezone

from backups import postgres, restore
from backups.models import Backup, RestoreRun

_files = count(1)


def fake_backup(directory, status=Backup.Status.GOOD, **values):
    """A Backup row whose file exists (its content is never read by the pages or endpoints)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"fake-{next(_files)}.dump"
    path.write_bytes(b"dump")
    values.setdefault("started_at", timezone.now())
    values.setdefault("manifest", {"migrations": postgres.applied_migrations(), "row_counts": {}})
    return Backup.objects.create(status=status, path=str(path), **values)


def fake_run(backup, tenant, **values):
    """A RestoreRun row; a running one past "queued" is held as a live worker would hold it."""
    values.setdefault("scope", RestoreRun.Scope.TENANT)
    values.setdefault("target", tenant.slug if tenant else "copy")
    run = RestoreRun.objects.create(backup=backup, tenant=tenant, started_at=timezone.now(), **values)
    if run.status == RestoreRun.Status.RUNNING and run.phase != restore.QUEUED:
        restore.hold(run.pk)
    return run
