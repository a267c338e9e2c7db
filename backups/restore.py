"""The three levels of restore (restore drills are in backups.drills).

1. whole database into a new database (never over the live one);
2. one tenant in place, in one transaction, after a fresh safety backup,
   touching no other tenant's rows;
3. one customer with its children, from a backup into the live tenant,
   refusing (and writing nothing) on any conflict with live data.
"""

from __future__ import annotations

import io
import threading
from datetime import timedelta

from django.apps import apps
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from audit.events import record as audit
from audit.models import AuditEvent
from backups import postgres, storage
from backups.dump import take_backup
from backups.models import Backup, RestoreRun
from backups.postgres import NEVER_RESTORED, TENANT_COLUMN, BackupError


def good_backup(backup_id=None) -> Backup:
    backups = Backup.objects.filter(status=Backup.Status.GOOD)
    backup = backups.filter(pk=backup_id).first() if backup_id else backups.order_by("-started_at", "-id").first()
    if backup is None:
        raise BackupError(f"No good backup {backup_id}" if backup_id else "There is no good backup yet.")
    if not storage.present(backup):
        raise BackupError(f"The file of backup {backup.pk} is missing: {backup.path}")
    return backup


# -- level 1: whole database --------------------------------------------------------


def restore_database(backup: Backup, database: str, user=None, run: RestoreRun | None = None) -> RestoreRun:
    """Restore the whole backup into a new database. `run`: a queued RestoreRun to report on (else one is made)."""

    def check():
        if database == settings.DATABASES["default"]["NAME"]:
            raise BackupError("Refusing to restore over the live database; name a new database.")
        if postgres.database_exists(database):
            raise BackupError(f"Database {database} already exists; name a new one.")

    run, refused = _begin(run, check, backup, RestoreRun.Scope.DATABASE, target=database, user=user)
    if refused:
        return run
    try:
        _phase(run, "creating the database")
        postgres.create_database(database)
        _phase(run, "restoring into the new database")
        with storage.readable(backup) as dump:
            postgres.restore_into(dump, database)
    except BackupError as error:
        return _end(run, RestoreRun.Status.FAILED, error=str(error))
    return _end(run, RestoreRun.Status.DONE)


# -- level 2: one tenant ----------------------------------------------------------


def tenant_tables() -> list[str]:
    """Tenant-owned tables, from the models, parents before children."""
    ordered: list = []
    models = [model for model in apps.get_models(include_auto_created=True) if _tenant_owned(model)]

    def visit(model, trail=()):
        if model in ordered or model in trail:
            return
        for field in model._meta.concrete_fields:
            related = field.related_model
            if field.is_relation and related is not None and related in models and related is not model:
                visit(related, (*trail, model))
        ordered.append(model)

    for model in sorted(models, key=lambda m: m._meta.db_table):
        visit(model)
    return [model._meta.db_table for model in ordered if model._meta.db_table not in NEVER_RESTORED]


def _tenant_owned(model) -> bool:
    return not model._meta.proxy and any(field.column == TENANT_COLUMN for field in model._meta.concrete_fields)


def restore_tenant(backup: Backup, tenant, user=None, run: RestoreRun | None = None) -> RestoreRun:
    """Replace one tenant's rows with the backup's, in one transaction, after a safety backup.

    `run`: a queued RestoreRun to report on (else one is made).
    """
    run, refused = _begin(
        run,
        lambda: _check_same_schema(backup),
        backup,
        RestoreRun.Scope.TENANT,
        target=tenant.slug,
        user=user,
        tenant=tenant,
    )
    if refused:
        return run
    try:
        _phase(run, "safety backup")
        safety = take_backup(Backup.Kind.PRE_RESTORE, user=user)
        if safety.status != Backup.Status.GOOD:
            raise BackupError(f"The safety backup failed, nothing was restored: {safety.error}")
        run.safety_backup = safety
        _phase(run, "restoring into a scratch database")
        with storage.readable(backup) as dump, postgres.scratch_database(dump, "crm_restore") as scratch:
            _phase(run, "replacing the company's rows")
            copied = _replace_tenant_rows(scratch, tenant.pk)
    except BackupError as error:
        return _end(run, RestoreRun.Status.FAILED, error=str(error))
    return _end(run, RestoreRun.Status.DONE, report={"rows": copied, "safety_backup": safety.pk})


def _replace_tenant_rows(scratch: str, tenant_id: int) -> dict[str, int]:
    tables = tenant_tables()
    source = postgres.connect(scratch)
    quote = connection.ops.quote_name
    copied = {}
    try:
        with transaction.atomic(), connection.cursor() as live, source.cursor() as backup_rows:
            live.execute("SET CONSTRAINTS ALL DEFERRED")
            for table in reversed(tables):
                live.execute(f"DELETE FROM {quote(table)} WHERE {TENANT_COLUMN} = %s", [tenant_id])
            for table in tables:
                copied[table] = _copy_rows(backup_rows, live, table, f"{TENANT_COLUMN} = {int(tenant_id)}")
    finally:
        source.close()
    return copied


def _copy_rows(source_cursor, live_cursor, table: str, where: str) -> int:
    """COPY the matching rows of `table` from the scratch database into the live one."""
    quote = connection.ops.quote_name
    columns = _columns(live_cursor, table)
    column_list = ", ".join(quote(column) for column in columns)
    buffer = io.StringIO()
    source_cursor.copy_expert(f"COPY (SELECT {column_list} FROM {quote(table)} WHERE {where}) TO STDOUT", buffer)
    buffer.seek(0)
    live_cursor.copy_expert(f"COPY {quote(table)} ({column_list}) FROM STDIN", buffer)
    return live_cursor.rowcount


def _columns(cursor, table: str) -> list[str]:
    cursor.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = %s "
        "ORDER BY ordinal_position",
        [table],
    )
    return [row[0] for row in cursor.fetchall()]


def _check_same_schema(backup: Backup) -> None:
    if backup.manifest.get("migrations") != postgres.applied_migrations():
        raise BackupError(
            "This backup was taken with a different database schema (migrations differ); "
            "restore it into a new database instead."
        )


# -- level 3: one customer ---------------------------------------------------------


def customer_tables() -> list[tuple[str, str]]:
    """(table, filter column) of a customer and what hangs off it, parents first."""
    from customers.models import Contact, Customer, CustomerShare, Interaction, Ticket
    from sales.models import Opportunity

    return [(Customer._meta.db_table, "id")] + [
        (model._meta.db_table, "customer_id") for model in (Contact, CustomerShare, Interaction, Ticket, Opportunity)
    ]


def restore_customer(backup: Backup, tenant, customer_id: int, user=None, run: RestoreRun | None = None) -> RestoreRun:
    """Bring back one customer with its children; any conflict with live data -> nothing written.

    `run`: a queued RestoreRun to report on (else one is made).
    """
    run, refused = _begin(
        run,
        lambda: _check_same_schema(backup),
        backup,
        RestoreRun.Scope.CUSTOMER,
        target=str(customer_id),
        user=user,
        tenant=tenant,
    )
    if refused:
        return run
    try:
        _phase(run, "restoring into a scratch database")
        with storage.readable(backup) as dump, postgres.scratch_database(dump, "crm_restore") as scratch:
            source = postgres.connect(scratch)
            try:
                with source.cursor() as cursor:
                    _phase(run, "checking for conflicts")
                    cursor.execute(
                        "SELECT id, email FROM customers_customer WHERE id = %s AND tenant_id = %s",
                        [customer_id, tenant.pk],
                    )
                    found = cursor.fetchone()
                    if found is None:
                        raise BackupError(f"Customer {customer_id} of {tenant.slug} is not in backup {backup.pk}.")
                    ids = _ids_in_backup(cursor, customer_id)
                    conflicts = _conflicts(ids, tenant, email=found[1])
                    if conflicts:
                        return _end(run, RestoreRun.Status.REFUSED, report={"conflicts": conflicts})
                    _phase(run, "copying the customer's rows")
                    copied = _insert_customer(cursor, customer_id, tenant)
            finally:
                source.close()
    except BackupError as error:
        return _end(run, RestoreRun.Status.FAILED, error=str(error))
    return _end(run, RestoreRun.Status.DONE, report={"rows": copied})


def _ids_in_backup(cursor, customer_id) -> dict[str, list[int]]:
    quote = connection.ops.quote_name
    ids = {}
    for table, column in customer_tables():
        cursor.execute(f"SELECT id FROM {quote(table)} WHERE {quote(column)} = %s ORDER BY id", [customer_id])
        ids[table] = [row[0] for row in cursor.fetchall()]
    return ids


def _conflicts(ids: dict[str, list[int]], tenant, *, email: str) -> list[str]:
    quote = connection.ops.quote_name
    conflicts = []
    with connection.cursor() as cursor:
        for table, table_ids in ids.items():
            if not table_ids:
                continue
            cursor.execute(f"SELECT id FROM {quote(table)} WHERE id = ANY(%s) ORDER BY id", [table_ids])
            for (row_id,) in cursor.fetchall():
                conflicts.append(f"{table} {row_id} exists in the live database")
        if email:
            cursor.execute(
                "SELECT id FROM customers_customer WHERE tenant_id = %s AND lower(email) = lower(%s) "
                "AND deleted_at IS NULL",
                [tenant.pk, email],
            )
            conflicts += [f"customers_customer {row[0]} already uses the same email" for row in cursor.fetchall()]
    return conflicts


def _insert_customer(source_cursor, customer_id, tenant) -> dict[str, int]:
    from crm.history.bulk import write_bulk_history
    from crm.records.registry import record_models

    copied = {}
    with transaction.atomic(), connection.cursor() as live:
        for table, column in customer_tables():
            where = f"{connection.ops.quote_name(column)} = {int(customer_id)} AND tenant_id = {int(tenant.pk)}"
            copied[table] = _copy_rows(source_cursor, live, table, where)
        for model in record_models().values():
            restored = model.all_objects.filter(tenant=tenant).filter(
                **({"pk": customer_id} if model._meta.model_name == "customer" else {"customer_id": customer_id})
            )
            write_bulk_history(model, list(restored.values_list("pk", flat=True)), "+", "restored from backup")
    return copied


# -- bookkeeping -------------------------------------------------------------------

RESTORE_EVENTS = {
    RestoreRun.Status.DONE: AuditEvent.Action.BACKUP_RESTORED,
    RestoreRun.Status.REFUSED: AuditEvent.Action.REFUSED,
    RestoreRun.Status.FAILED: AuditEvent.Action.BACKUP_FAILED,
}


def _begin(run, check, backup, scope, **values) -> tuple[RestoreRun, bool]:
    """(run, refused). Without `run`: `check()` (its BackupError propagates), then a new run.

    With a queued `run` (made by actions.start_restore before the task): the same check, but a
    BackupError ends that run as failed, so it never stays "running".
    """
    if run is None:
        check()
        return _start(backup, scope, **values), False
    try:
        _phase(run, "starting")
        check()
    except BackupError as error:
        return _end(run, RestoreRun.Status.FAILED, error=str(error)), True
    return run, False


def _start(backup, scope, *, target, user=None, tenant=None) -> RestoreRun:
    mark_stale_restores()
    with transaction.atomic():  # the lock is held before any other session can see the row
        run = RestoreRun.objects.create(
            backup=backup,
            scope=scope,
            target=target,
            tenant=tenant,
            started_at=timezone.now(),
            phase="starting",
            created_by=user if getattr(user, "pk", None) else None,
        )
        hold(run.pk)
    return run


def _phase(run: RestoreRun, phase: str) -> None:
    RestoreRun.objects.filter(pk=run.pk).update(phase=phase)


def _end(run: RestoreRun, status: str, *, error: str = "", report: dict | None = None) -> RestoreRun:
    run.status, run.error, run.report = status, error, report or {}
    run.finished_at, run.phase = timezone.now(), ""
    run.save()
    audit(
        RESTORE_EVENTS[status],
        tenant=run.tenant,
        object_type="backup",
        object_id=run.backup_id,
        detail={"scope": run.scope, "status": status, "restore_id": run.pk},
    )
    release(run.pk)
    return run


# -- runs whose worker died ---------------------------------------------------------
#
# The session working on a restore holds a PostgreSQL advisory lock on the run's id
# until the run ends. A worker that dies takes its connection, and so the lock,
# with it: a "running" run nobody holds is a dead one.

RESTORE_LOCK = 0x52535452  # "RSTR"; the second key is the run's id
QUEUED = "queued"  # the phase of a run actions.start_restore made, before a worker took it
UNCLAIMED_FOR = timedelta(hours=12)  # a queued run no worker took by then never will
DEAD_WORKER = "The worker running this restore stopped before it finished."
NEVER_TAKEN = "No worker took this restore."

_held = threading.local()


def _held_ids() -> set:
    if not hasattr(_held, "ids"):
        _held.ids = set()
    return _held.ids


def hold(run_id: int) -> bool:
    """Take the run's lock for this session (False: another session works on it)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [RESTORE_LOCK, run_id])
        taken = cursor.fetchone()[0]
    if taken:
        _held_ids().add(run_id)
    return taken


def release(run_id: int) -> None:
    if run_id in _held_ids():
        _held_ids().discard(run_id)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [RESTORE_LOCK, run_id])


def mark_stale_restores(runs=None) -> int:
    """End as failed the running restores (of `runs`, default all) whose worker is gone."""
    running = (RestoreRun.objects.all() if runs is None else runs).filter(status=RestoreRun.Status.RUNNING)
    ended = 0
    for run in running.exclude(pk__in=_held_ids()).select_related("tenant"):
        if run.phase == QUEUED:
            if run.started_at < timezone.now() - UNCLAIMED_FOR and hold(run.pk):
                ended += _end_if_running(run, NEVER_TAKEN)
        elif hold(run.pk):
            ended += _end_if_running(run, DEAD_WORKER)
    return ended


def _end_if_running(run, error: str) -> int:
    """With the run's lock held: end it as failed unless it ended meanwhile (then just let go)."""
    if RestoreRun.objects.filter(pk=run.pk, status=RestoreRun.Status.RUNNING).exists():
        _end(run, RestoreRun.Status.FAILED, error=error)
        return 1
    release(run.pk)
    return 0
