"""Backup actions: back up the whole database, start a restore. The one place for their rules.

- `start_backup` ("Back up now" in the browser and the API) queues a backup on a
  worker; `back_up` takes one in this process (the worker's task, the nightly
  schedule, `manage.py backup_now`). Staff only; one backup at a time.
- `start_restore` records a restore as queued and hands it to a worker
  (tasks.run_restore): the company or one customer of it (admins of the active
  company), or a whole backup into a new database (staff).

Refusals: PermissionDenied (who), ValidationError (the input), ActionConflict
(the state: code "backup_running", "backup_not_restorable", "restore_running").
Views, the API, the tasks and the commands only translate these.

Asking is audited (backup_requested on the system chain; restore_requested on the
company's chain, or the system's for a whole database), and so is the outcome when
it happens (backup_created / backup_failed / backup_restored / refused), as the
person who asked.
"""

from __future__ import annotations

import re
import uuid
from functools import partial

import psycopg2
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from audit.events import record as audit
from audit.events import record_system
from audit.models import AuditEvent
from backups import access, basebackup, listing, pitr, postgres, storage, tasks, wal
from backups.dump import BackupBusy, backup_running, take_backup
from backups.models import Backup, BaseBackup, RestoreRun
from backups.restore import QUEUED, mark_stale_restores
from backups.retention import apply_retention
from crm.tenancy.acting import ActionConflict, action
from crm.tenancy.context import current_tenant
from crm.tenancy.models import Tenant

MAX_ID = 2**63 - 1  # bigint
DATABASE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")  # a plain PostgreSQL identifier, never quoted oddly
RESERVED_DATABASES = frozenset({"postgres", "template0", "template1"})
IN_PLACE = frozenset({RestoreRun.Scope.TENANT.value, RestoreRun.Scope.CUSTOMER.value})


class RestoreRunning(ActionConflict):
    """A restore of the company is still at work or waiting for a worker: `run`."""

    code = "restore_running"

    def __init__(self, run: RestoreRun):
        super().__init__(
            _("A restore of this company is already running (restore %(id)s); wait until it ends.") % {"id": run.pk}
        )
        self.run = run


def backup_busy() -> ActionConflict:
    return ActionConflict(_("Another backup is running; wait until it ends."), "backup_running")


# -- backing up ----------------------------------------------------------------------


@action
def start_backup(*, acting_user) -> str:
    """Queue a manual backup of the whole database on a worker; returns the Celery task's id.

    The Backup row only exists once the worker took the one-backup lock (a row made
    here would be marked stale by it): follow the task (tasks.backup_task_outcome).
    A backup that starts between this check and the worker's is still refused there:
    the task then ends "busy".
    """
    access.require(access.STAFF, acting_user)
    if backup_running():
        raise backup_busy()
    task_id = str(uuid.uuid4())
    user_id = acting_user.pk if acting_user is not None else None
    with transaction.atomic():
        record_system(AuditEvent.Action.BACKUP_REQUESTED, detail={"task": task_id})
        transaction.on_commit(partial(tasks.backup_now.apply_async, kwargs={"user_id": user_id}, task_id=task_id))
    return task_id


@action
def back_up(*, kind: str = Backup.Kind.MANUAL, os_user: str = "", acting_user) -> Backup:
    """Take one verified backup now, in this process, then apply retention if it is good.

    `os_user`: the operating-system account, for a backup started from the command line.
    Returns the Backup row, good or failed (take_backup audits either). Another backup
    holding the lock: ActionConflict "backup_running", nothing done. Must run outside
    a transaction (pg_dump cannot see uncommitted rows): BackupError otherwise.
    """
    access.require(access.STAFF, acting_user)
    try:
        backup = take_backup(kind, user=acting_user, os_user=os_user)
    except BackupBusy:
        raise backup_busy() from None
    if backup.status == Backup.Status.GOOD:
        apply_retention()
    return backup


@action
def take_base_backup(*, os_user: str = "", incremental: bool = False, acting_user) -> BaseBackup:
    """A verified physical copy of the cluster now (the start of point-in-time recovery); `incremental`:
    only what changed since the newest base backup, where the server can."""
    access.require(access.STAFF, acting_user)
    return basebackup.take_base_backup(user=acting_user, os_user=os_user, incremental=incremental)


@action
def recover_to(moment, *, acting_user) -> Backup:
    """A logical backup of the database as it was at `moment` (backups/pitr.py), which the restore
    levels then take like any backup. Another backup holding the lock: "backup_running"."""
    access.require(access.STAFF, acting_user)
    try:
        return pitr.recover(moment, user=acting_user)
    except BackupBusy:
        raise backup_busy() from None


# -- restoring -----------------------------------------------------------------------


def unrestorable(backup: Backup, *, in_place: bool) -> str:
    """Why `backup` cannot be restored ("" when it can). `in_place`: into the live database."""
    if backup.status == Backup.Status.FAILED:
        return _("Backup #%(id)s failed, so there is nothing to restore from it. Choose a good backup.") % {
            "id": backup.pk
        }
    if backup.status == Backup.Status.PRUNED:
        return _(
            "Backup #%(id)s was removed by the retention policy and its file no longer exists. Choose a newer backup."
        ) % {"id": backup.pk}
    if backup.status == Backup.Status.BAD:
        return _(
            "Backup #%(id)s failed verification (its file is missing, unreadable or changed). Choose another backup."
        ) % {"id": backup.pk}
    if backup.status != Backup.Status.GOOD:
        return _("Backup #%(id)s is still running; wait until it is good.") % {"id": backup.pk}
    if not storage.present(backup):
        return _("The file of backup #%(id)s is missing. Choose another backup.") % {"id": backup.pk}
    if in_place and backup.manifest.get("migrations") != postgres.applied_migrations():
        return _(
            "Backup #%(id)s was taken with a different version of the database schema, so it cannot be "
            "restored into the live data. Staff can restore it into a new database instead."
        ) % {"id": backup.pk}
    return ""


def running_restore(tenant) -> RestoreRun | None:
    """A restore of `tenant` still at work or waiting for a worker (not one a dead worker left), or None."""
    runs = RestoreRun.objects.filter(tenant=tenant)
    mark_stale_restores(runs)
    return runs.filter(status=RestoreRun.Status.RUNNING).order_by("-started_at").first()


def check_restore(backup: Backup, *, scope: str, user) -> None:
    """What `start_restore` checks before its input: who (403) and the state (409). Writes nothing
    but the end of restores whose worker died; the confirmation pages call it before asking."""
    if scope not in RestoreRun.Scope.values:
        raise ValidationError(
            {"scope": _("Choose one of: %(scopes)s.") % {"scopes": ", ".join(RestoreRun.Scope.values)}}
        )
    access.require(access.ADMINS if scope in IN_PLACE else access.STAFF, user)
    reason = unrestorable(backup, in_place=scope in IN_PLACE)
    if reason:
        raise ActionConflict(reason, "backup_not_restorable")
    if scope in IN_PLACE:
        running = running_restore(current_tenant())
        if running is not None:
            raise RestoreRunning(running)


@action
def start_restore(backup: Backup, *, scope: str, customer=None, database=None, acting_user) -> RestoreRun:
    """Record a restore from `backup` as queued and hand it to a worker once committed.

    scope "tenant": the whole active company; "customer": one customer of it (`customer`,
    its id as it was in the backup); "database": the whole backup into a new database
    named `database`. Returns the RestoreRun (status running, phase "queued").
    """
    if customer is not None and scope != RestoreRun.Scope.CUSTOMER:
        raise TypeError("start_restore: only a customer restore names `customer`")
    if database is not None and scope != RestoreRun.Scope.DATABASE:
        raise TypeError("start_restore: only a restore into a new database names `database`")
    check_restore(backup, scope=scope, user=acting_user)
    tenant = current_tenant() if scope in IN_PLACE else None
    if scope == RestoreRun.Scope.CUSTOMER:
        target = str(check_customer(backup, tenant, customer).id)
    elif scope == RestoreRun.Scope.DATABASE:
        target = check_database_name(database)
    else:
        target = tenant.slug
    return _queue(backup, None, tenant=tenant, scope=scope, target=target, acting_user=acting_user)


@action
def start_restore_to_moment(moment, *, scope: str, customer=None, database=None, acting_user) -> RestoreRun:
    """Record a restore of the database as it was at `moment` (point-in-time recovery) as queued.

    The same levels and rules as start_restore; the worker first recovers the database to the
    moment (backups/pitr.py), which becomes the run's backup. A customer's id is checked against
    the recovered database by the worker (nothing holds it before).
    """
    if scope not in RestoreRun.Scope.values:
        raise ValidationError(
            {"scope": _("Choose one of: %(scopes)s.") % {"scopes": ", ".join(RestoreRun.Scope.values)}}
        )
    access.require(access.ADMINS if scope in IN_PLACE else access.STAFF, acting_user)
    moment = check_moment(moment)
    tenant = current_tenant() if scope in IN_PLACE else None
    if tenant is not None:
        running = running_restore(tenant)
        if running is not None:
            raise RestoreRunning(running)
    if scope == RestoreRun.Scope.CUSTOMER:
        target = str(check_customer_id(customer))
        if int(target) in listing.erased_ids(tenant):
            message = _("Customer #%(id)s was erased at a person's request; it is never brought back from a backup.")
            raise ValidationError({"customer": message % {"id": target}})
    elif scope == RestoreRun.Scope.DATABASE:
        target = check_database_name(database)
    else:
        target = tenant.slug
    return _queue(None, moment, tenant=tenant, scope=scope, target=target, acting_user=acting_user)


def check_moment(moment):
    """A moment in the point-in-time window: with its time zone, past, and not before the window's start."""
    if moment is None or timezone.is_naive(moment):
        raise ValidationError({"moment": _("Enter a date and time.")})
    status = wal.status()
    if status.window_start is None:
        raise ActionConflict(
            _("No moment can be recovered yet: the first base backup has not been taken."), "no_recovery_window"
        )
    if moment > status.now:
        raise ValidationError({"moment": _("This moment is in the future.")})
    if moment < status.window_start:
        message = _("The earliest moment that can be recovered is %(start)s.")
        raise ValidationError(
            {
                "moment": message
                % {"start": formats.date_format(timezone.localtime(status.window_start), "DATETIME_FORMAT")}
            }
        )
    return moment


def _queue(backup, moment, *, tenant, scope: str, target: str, acting_user) -> RestoreRun:
    with transaction.atomic():
        if tenant is not None:
            # One start at a time per company: the second waits here, then finds the first.
            Tenant.objects.select_for_update().filter(pk=tenant.pk).first()
            running = RestoreRun.objects.filter(tenant=tenant, status=RestoreRun.Status.RUNNING).first()
            if running is not None:
                raise RestoreRunning(running)
        run = RestoreRun.objects.create(
            backup=backup,
            moment=moment,
            tenant=tenant,
            scope=scope,
            target=target,
            status=RestoreRun.Status.RUNNING,
            phase=QUEUED,
            started_at=timezone.now(),
            created_by=acting_user,
        )
        request = {"backup": backup.pk if backup else None, "scope": scope, "run": run.pk}
        if moment is not None:
            request["moment"] = moment.isoformat()
        if tenant is not None:
            audit(AuditEvent.Action.RESTORE_REQUESTED, tenant=tenant, target=run, detail=request)
        else:
            record_system(AuditEvent.Action.RESTORE_REQUESTED, target=run, detail=request)
        transaction.on_commit(partial(tasks.run_restore.delay, run.pk))
    return run


def check_customer_id(customer) -> int:
    """The customer's id as a whole number from 1 to the largest id (ValidationError otherwise)."""
    if isinstance(customer, bool) or not isinstance(customer, int) or not 1 <= customer <= MAX_ID:
        raise ValidationError({"customer": _("Enter the id of the customer to bring back.")})
    return customer


def check_customer(backup: Backup, tenant, customer) -> listing.BackupCustomer:
    """The company's customer with the id `customer` as `backup` holds it (read from the backup, cached).

    ValidationError when the id is not a whole number, names a person erased at their request (never
    brought back), or is not one of the company's customers in the backup.
    """
    customer_id = check_customer_id(customer)
    if customer_id in listing.erased_ids(tenant):
        message = _("Customer #%(id)s was erased at a person's request; it is never brought back from a backup.")
        raise ValidationError({"customer": message % {"id": customer_id}})
    found = listing.find(backup, tenant, customer_id)
    if found is None:
        message = _("Backup #%(backup)s holds no customer #%(id)s of this company. Search for the customer by name.")
        raise ValidationError({"customer": message % {"backup": backup.pk, "id": customer_id}})
    return found


def check_database_name(name) -> str:
    """A name for the new database: a plain identifier, not in use, not being restored into."""

    def refuse(message, code="invalid"):
        return ValidationError({"database": ValidationError(message, code=code)})

    if not isinstance(name, str) or not name:
        raise refuse(_("Enter a name for the new database."), "required")
    if not DATABASE_NAME.match(name):
        raise refuse(
            _("Use only lower-case letters, digits and underscores (at most 63), starting with a letter or underscore.")
        )
    if name == settings.DATABASES["default"]["NAME"]:
        raise refuse(_("This is the live database; a backup is only restored into a new one."))
    if name in RESERVED_DATABASES:
        raise refuse(_("%(name)s is reserved by PostgreSQL; choose another name.") % {"name": name})
    running = RestoreRun.objects.filter(scope=RestoreRun.Scope.DATABASE, target=name, status=RestoreRun.Status.RUNNING)
    if running.exists():
        raise refuse(_("A restore into %(name)s is already running.") % {"name": name})
    try:
        exists = postgres.database_exists(name)
    except psycopg2.Error:
        raise refuse(_("Could not reach the database server to check the name; try again.")) from None
    if exists:
        raise refuse(_("A database named %(name)s already exists; choose a new name.") % {"name": name})
    return name
