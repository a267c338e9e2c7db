"""Backups over the API: the history, "back up now" (staff), and restores of the company or one customer.

The rules are the browser's (backups/views.py), and so are the functions underneath:

- tenant admins (role admin in the token's company) and staff (is_staff or
  superuser) read the backup history, each backup with its last restore drill;
  everyone else gets a 403. Failure details and who started a backup are for staff;
- staff alone start a backup (it is a dump of the whole database; tenant admins get a 403);
- tenant admins restore their own company, or one customer of it, from a good
  backup, and follow their company's restores; another company's restore is a 404.
  Staff follow the whole-database restores (started in the browser).

Backups and restores take minutes, so nothing here waits for them:

- a restore is recorded as a queued RestoreRun and handed to the browser's
  Celery task `run_restore` once committed (views.start_restore); the answer is a
  202 with the run, which `GET /api/v1/backups/restores/{id}/` follows;
- a backup is started with the browser's Celery task `backup_now`. Its Backup row
  can only be made by the task itself (take_backup creates it under the
  one-backup lock; a row made beforehand would be marked stale), so the answer
  is a 202 with the task id and `GET /api/v1/backups/tasks/{task}/`, which names
  the backup as soon as its row exists (the task publishes it, as for the browser's
  pending page). Unlike the browser, a request made while a backup holds the
  one-backup lock is refused at once with a 409; one that loses a later race
  still reads "busy" in the task's status.
"""

from __future__ import annotations

from types import SimpleNamespace

from django.db import connection
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_view,
)
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from backups import tasks, views
from backups.dump import LOCK_KEY
from backups.models import Backup, RestoreDrill, RestoreRun
from backups.restore import mark_stale_restores
from crm.api.errors import Conflict
from crm.api.filters import MAX_PK, StrictQueryParameters
from crm.api.permissions import IsTenantMember, active_membership
from crm.api.viewsets import ID_PATTERN, ApiViewMixin
from crm.celery import app as celery_app
from crm.recyclebin.api import UserRefSerializer
from crm.tenancy.roles import TENANT_ADMIN_ROLES

TAGS = ["backups"]
ERROR = {"$ref": "#/components/schemas/Error"}  # the one error body (crm.api.schema)


# -- who may do what (the browser's rules, for the token's membership) -----------------


def is_staff(request) -> bool:
    return views.is_staff(request.user)


def is_tenant_admin(request) -> bool:
    membership = active_membership(request)
    return membership is not None and membership.role in TENANT_ADMIN_ROLES


def visible_restores(request):
    """The browser's rule (views.visible_restores) for the membership the token acts as.

    The tenant middleware runs before token authentication, so `request.membership`
    and `request.tenant` are not set for API calls; the context's membership is.
    """
    membership = active_membership(request)
    return views.visible_restores(
        SimpleNamespace(user=request.user, membership=membership, tenant=membership.tenant if membership else None)
    )


ALLOWED = {
    "viewers": lambda request: is_tenant_admin(request) or is_staff(request),
    "admins": is_tenant_admin,
    "staff": is_staff,
}


class BackupAccess(IsTenantMember):
    """A member of the token's company (401/403), then the action's audience (403): see `access`."""

    def has_permission(self, request, view):
        if not super().has_permission(request, view):
            self.message = IsTenantMember.message
            return False
        who = view.access.get(view.action, "viewers")
        self.message = views.DENIED[who]
        return ALLOWED[who](request)


# -- shapes ------------------------------------------------------------------------------

RESTORE_SCOPES = (RestoreRun.Scope.TENANT.value, RestoreRun.Scope.CUSTOMER.value)


class DrillSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    started_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    passed = serializers.BooleanField(allow_null=True, help_text="null while the drill runs.")
    restore_seconds = serializers.FloatField(allow_null=True, help_text="How long the restore took.")
    mismatches = serializers.IntegerField(help_text="Tables × companies whose row count differs from the manifest.")
    error = serializers.CharField(allow_null=True, help_text="Why the drill failed (staff only; null otherwise).")


class BackupSerializer(serializers.Serializer):
    """One backup of the whole database; "good" only after every check passed."""

    id = serializers.IntegerField()
    url = serializers.CharField(help_text="This backup in the API.")
    kind = serializers.ChoiceField(choices=Backup.Kind.choices)
    status = serializers.ChoiceField(
        choices=Backup.Status.choices, help_text="running, then good or failed; pruned once retention removed it."
    )
    phase = serializers.CharField(
        help_text='While running: "starting", "dumping", "verifying"; empty once finished.', allow_blank=True
    )
    started_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    duration = serializers.FloatField(allow_null=True, help_text="Seconds, once finished.")
    size = serializers.IntegerField(allow_null=True, help_text="Bytes of the dump file, once good.")
    sha256 = serializers.CharField(allow_blank=True, help_text="Of the dump file, once good.")
    error = serializers.CharField(
        allow_null=True,
        help_text="Why the backup failed: staff only (null for everyone else, and when it did not fail).",
    )
    created_by = UserRefSerializer(
        allow_null=True, help_text="Who started it: staff only (null otherwise, and for scheduled backups)."
    )
    last_drill = DrillSerializer(allow_null=True, help_text="The newest restore drill of this backup (null: none yet).")
    restore_options = serializers.ListField(
        child=serializers.ChoiceField(choices=RESTORE_SCOPES),
        help_text="The scopes you may POST to restore_url: tenant and customer for your company's admins "
        "while the backup is good; empty otherwise.",
    )
    restore_url = serializers.CharField(allow_null=True, help_text="Where to POST a restore (null: no option).")


class RestoreRunSerializer(serializers.Serializer):
    """A restore of the company, of one customer, or (staff, from the browser) of the whole database."""

    id = serializers.IntegerField()
    url = serializers.CharField(help_text="This restore in the API (poll it until status is no longer running).")
    backup = serializers.IntegerField(help_text="The backup restored from.")
    scope = serializers.ChoiceField(choices=RestoreRun.Scope.choices)
    target = serializers.CharField(help_text="The company's slug, the customer's id or the new database's name.")
    customer = serializers.IntegerField(allow_null=True, help_text="scope customer: the customer's id.")
    status = serializers.ChoiceField(
        choices=RestoreRun.Status.choices,
        help_text="running, then done, failed, or refused (conflicts with the live data: nothing was written).",
    )
    phase = serializers.CharField(
        allow_blank=True, help_text='While running: "queued" (waiting for a worker), then each step; empty once ended.'
    )
    started_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    safety_backup = serializers.IntegerField(
        allow_null=True, help_text="scope tenant: the backup of the whole database taken just before."
    )
    rows = serializers.DictField(child=serializers.IntegerField(), help_text="Rows restored, per table.")
    rows_restored = serializers.IntegerField()
    conflicts = serializers.ListField(
        child=serializers.CharField(), help_text="status refused: what in the live data stands in the way."
    )
    error = serializers.CharField(allow_null=True, help_text="status failed: why.")
    created_by = UserRefSerializer(allow_null=True, help_text="Who asked for it.")


class BackupTaskSerializer(serializers.Serializer):
    """A requested backup, until its Backup row exists."""

    task = serializers.UUIDField(help_text="The Celery task taking the backup.")
    url = serializers.CharField(help_text="This task's status in the API.")
    state = serializers.ChoiceField(
        choices=[
            ("queued", "queued: waiting for a worker (an unknown task id reads the same)"),
            ("created", "created: the backup row exists; follow backup_url"),
            ("busy", "busy: another backup was running, nothing was done"),
            ("failed", "failed: the task itself failed"),
        ],
        help_text="queued (waiting for a worker; an unknown task id reads the same), created (the backup "
        "exists: follow backup_url), busy (another backup was running: nothing was done), failed (the task "
        "itself failed; see error).",
    )
    backup = serializers.IntegerField(allow_null=True, help_text="state created: the backup's id.")
    backup_url = serializers.CharField(allow_null=True, help_text="state created: the backup in the API.")
    error = serializers.CharField(allow_null=True, help_text="state failed: why.")


class StrictIdField(serializers.IntegerField):
    """An id: a whole number (1.5, "1e3" and true are refused, not rounded)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_PK)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("invalid")
        if isinstance(data, str) and not (data.isascii() and data.isdigit()):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictSerializer(serializers.Serializer):
    """Refuses fields it does not know: a typo must not be silently ignored."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(str(key) for key in data if key not in self.fields)
            if unknown:
                raise ValidationError(
                    {
                        name[:100]: [_("Unknown field. Allowed: %(fields)s.") % {"fields": ", ".join(self.fields)}]
                        for name in unknown[:10]
                    }
                )
        return super().to_internal_value(data)


class TenantRestoreSerializer(StrictSerializer):
    """Restore the whole company."""

    scope = serializers.ChoiceField(
        choices=[RestoreRun.Scope.TENANT.value],
        help_text="Replace all of your company's data with the backup's, after a safety backup.",
    )


class CustomerRestoreSerializer(StrictSerializer):
    """Restore one customer of the company."""

    scope = serializers.ChoiceField(
        choices=[RestoreRun.Scope.CUSTOMER.value],
        help_text="Bring back one customer with its contacts, interactions, tickets and opportunities; "
        "nothing is overwritten: conflicts with live data are reported and nothing is written.",
    )
    customer = StrictIdField(help_text="The customer's id (as it was in the backup).")


RESTORE_BODIES = {
    RestoreRun.Scope.TENANT.value: TenantRestoreSerializer,
    RestoreRun.Scope.CUSTOMER.value: CustomerRestoreSerializer,
}
RESTORE_REQUEST = PolymorphicProxySerializer(
    component_name="BackupRestore",
    serializers=RESTORE_BODIES,
    resource_type_field_name="scope",
)


def restore_body(data) -> dict:
    """The restore request, by its scope: 400 with the fields named."""
    if not isinstance(data, dict):
        raise ValidationError({"non_field_errors": [_("Send a JSON object.")]})
    scope = data.get("scope")
    body_class = RESTORE_BODIES.get(scope) if isinstance(scope, str) else None
    if body_class is None:
        raise ValidationError({"scope": [_("Choose one of: %(scopes)s.") % {"scopes": ", ".join(RESTORE_SCOPES)}]})
    body = body_class(data=data)
    body.is_valid(raise_exception=True)
    return body.validated_data


def user_ref(user) -> dict | None:
    return {"id": user.pk, "username": user.get_username()} if user is not None else None


def backup_data(backup: Backup, *, staff: bool, admin: bool) -> dict:
    drills = getattr(backup, "latest_drills", None)
    drill: RestoreDrill | None = drills[0] if drills else None
    options = list(RESTORE_SCOPES) if admin and backup.status == Backup.Status.GOOD else []
    return {
        "id": backup.pk,
        "url": reverse("api:backup-detail", args=[backup.pk]),
        "kind": backup.kind,
        "status": backup.status,
        "phase": backup.phase,
        "started_at": backup.started_at,
        "finished_at": backup.finished_at,
        "duration": backup.duration,
        "size": backup.size,
        "sha256": backup.sha256,
        "error": (backup.error or None) if staff else None,
        "created_by": user_ref(backup.created_by) if staff else None,
        "last_drill": {
            "id": drill.pk,
            "started_at": drill.started_at,
            "finished_at": drill.finished_at,
            "passed": drill.passed,
            "restore_seconds": drill.restore_seconds,
            "mismatches": len(drill.mismatches or []),
            "error": (drill.error or None) if staff else None,
        }
        if drill is not None
        else None,
        "restore_options": options,
        "restore_url": reverse("api:backup-restore", args=[backup.pk]) if options else None,
    }


def restore_data(run: RestoreRun) -> dict:
    report = run.report if isinstance(run.report, dict) else {}
    rows = {str(table): count for table, count in (report.get("rows") or {}).items() if isinstance(count, int)}
    is_customer = run.scope == RestoreRun.Scope.CUSTOMER
    return {
        "id": run.pk,
        "url": reverse("api:backup-restore-run-detail", args=[run.pk]),
        "backup": run.backup_id,
        "scope": run.scope,
        "target": run.target,
        "customer": int(run.target) if is_customer and run.target.isascii() and run.target.isdigit() else None,
        "status": run.status,
        "phase": run.phase,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "safety_backup": run.safety_backup_id,
        "rows": rows,
        "rows_restored": sum(rows.values()),
        "conflicts": [str(conflict) for conflict in report.get("conflicts") or []],
        "error": run.error or None,
        "created_by": user_ref(run.created_by),
    }


def task_data(task_id: str) -> dict:
    """What became of a `backup_now` task (the browser's views.backup_pending, as data)."""
    result = celery_app.AsyncResult(task_id)
    state = result.state
    info = result.info if isinstance(result.info, dict) else {}
    backup_id = info.get("backup_id") if state in (tasks.BACKUP_STARTED, "SUCCESS") else None
    if backup_id:
        shown = "created"
    elif state == "SUCCESS" and info.get("busy"):
        shown = "busy"
    elif state == "FAILURE":
        shown = "failed"
    else:
        shown = "queued"
    return {
        "task": task_id,
        "url": reverse("api:backup-task", args=[task_id]),
        "state": shown,
        "backup": backup_id,
        "backup_url": reverse("api:backup-detail", args=[backup_id]) if backup_id else None,
        "error": (str(result.info) or type(result.info).__name__) if shown == "failed" else None,
    }


def backup_running() -> bool:
    """Whether a backup holds the one-backup lock right now (read from pg_locks; takes nothing)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND classid = %s AND objid = %s AND objsubid = 2)",
            LOCK_KEY,
        )
        return cursor.fetchone()[0]


# -- endpoints ---------------------------------------------------------------------------

ID_PARAMETER = OpenApiParameter("id", OpenApiTypes.INT64, OpenApiParameter.PATH, description="The backup's id.")
RUN_PARAMETER = OpenApiParameter("id", OpenApiTypes.INT64, OpenApiParameter.PATH, description="The restore's id.")
LOCATION = OpenApiParameter(
    "Location", str, OpenApiParameter.HEADER, response=[202], required=True, description="Where to follow the progress."
)
NOT_ALLOWED = OpenApiResponse(
    ERROR, description="Not a member of the token's company, or not one of the people the operation is for."
)


@extend_schema_view(
    list=extend_schema(
        summary="The backup history, newest first, each with its last restore drill",
        description="For your company's admins and for staff (403 otherwise). Failure details and who started "
        "a backup are shown to staff only; `restore_options` name what you may restore from each backup.",
        responses={200: BackupSerializer(many=True), 403: NOT_ALLOWED},
        tags=TAGS,
        operation_id="backups_list",
    ),
    retrieve=extend_schema(
        summary="One backup: status and progress (poll it while status is running)",
        parameters=[ID_PARAMETER],
        responses={200: BackupSerializer, 403: NOT_ALLOWED, 404: OpenApiResponse(ERROR, description="No such backup.")},
        tags=TAGS,
        operation_id="backups_retrieve",
    ),
    create=extend_schema(
        summary="Back up the whole database now (staff only)",
        description="Queues the backup on a worker and answers at once with the task: poll its `url` (also in "
        "Location) until `state` is created, then follow `backup_url` until the backup's status is good or "
        "failed. The backup's id is only known once the worker has created its row: a backup takes the "
        "one-backup lock first, and a row made before it would be marked stale. No request body.",
        request=None,
        parameters=[LOCATION],
        responses={
            202: OpenApiResponse(BackupTaskSerializer, description="Queued: follow the task."),
            403: OpenApiResponse(ERROR, description="Only staff back up the whole database."),
            409: OpenApiResponse(ERROR, description="Another backup is running (code backup_running)."),
        },
        tags=TAGS,
        operation_id="backups_create",
    ),
    restore=extend_schema(
        summary="Restore your company, or one customer of it, from this backup",
        description='`{"scope": "tenant"}` replaces all of your company\'s data with the backup\'s (after a '
        'safety backup of the whole database; other companies are not touched). `{"scope": "customer", '
        '"customer": ID}` brings back one customer with what hangs off it, writing nothing if anything in the '
        "live data conflicts (the run's `conflicts` say what). For your company's admins only. Answers at "
        "once with the queued run: poll its `url` (also in Location) until status is no longer running.",
        parameters=[ID_PARAMETER, LOCATION],
        request=RESTORE_REQUEST,
        responses={
            202: OpenApiResponse(RestoreRunSerializer, description="Queued: follow the restore."),
            403: OpenApiResponse(ERROR, description="Only your company's admins restore it."),
            404: OpenApiResponse(ERROR, description="No such backup."),
            409: OpenApiResponse(
                ERROR,
                description="The backup cannot be restored (failed, removed by retention, still running, its file "
                "missing, or taken with another database schema: code backup_not_restorable), or a restore of "
                "your company is already running (code restore_running).",
            ),
        },
        tags=TAGS,
        operation_id="backups_restore",
    ),
)
class BackupViewSet(ApiViewMixin, viewsets.GenericViewSet):
    """Backups of the whole database (not tenant-owned: the same list for every company's admins)."""

    queryset = Backup.objects.none()  # for the router and the schema; get_queryset() is what runs
    serializer_class = BackupSerializer
    permission_classes = [BackupAccess]
    filter_backends = [StrictQueryParameters]
    lookup_value_regex = ID_PATTERN
    http_method_names = ["get", "post", "head"]
    access = {"list": "viewers", "retrieve": "viewers", "create": "staff", "restore": "admins"}

    def get_queryset(self):
        return views.with_latest_drill(Backup.objects.select_related("created_by").order_by("-started_at", "-id"))

    def get_backup(self, pk) -> Backup:
        backup = self.get_queryset().filter(pk=pk).first()
        if backup is None:
            raise NotFound(_("No backup with id %(id)s.") % {"id": pk})
        return backup

    def shape(self, backup: Backup) -> dict:
        return backup_data(backup, staff=is_staff(self.request), admin=is_tenant_admin(self.request))

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(BackupSerializer([self.shape(backup) for backup in page], many=True).data)

    def retrieve(self, request, *args, pk=None, **kwargs):
        return Response(BackupSerializer(self.shape(self.get_backup(pk))).data)

    def create(self, request, *args, **kwargs):
        if backup_running():
            raise Conflict(_("Another backup is running; wait until it ends."), "backup_running")
        task_id = tasks.backup_now.delay(user_id=request.user.pk).id
        data = BackupTaskSerializer(task_data(task_id)).data
        return Response(data, status=status.HTTP_202_ACCEPTED, headers={"Location": data["url"]})

    @action(detail=True, methods=["post"])
    def restore(self, request, *args, pk=None, **kwargs):
        backup = self.get_backup(pk)
        body = restore_body(request.data)
        membership = active_membership(request)
        tenant = membership.tenant
        reason = views.unrestorable(backup, in_place=True)
        if reason:
            raise Conflict(reason, "backup_not_restorable")
        running = views.running_restore(tenant)
        if running is not None:
            raise Conflict(
                _("A restore of this company is already running (restore %(id)s); wait until it ends.")
                % {"id": running.pk},
                "restore_running",
            )
        if body["scope"] == RestoreRun.Scope.TENANT:
            run = views.start_restore(request, backup, RestoreRun.Scope.TENANT, tenant.slug, tenant=tenant)
        else:
            target = str(body["customer"])
            run = views.start_restore(request, backup, RestoreRun.Scope.CUSTOMER, target, tenant=tenant)
        data = RestoreRunSerializer(restore_data(run)).data
        return Response(data, status=status.HTTP_202_ACCEPTED, headers={"Location": data["url"]})


@extend_schema_view(
    list=extend_schema(
        summary="Restores you may follow, newest first",
        description="Your company's restores (its admins), and whole-database restores (staff).",
        responses={200: RestoreRunSerializer(many=True), 403: NOT_ALLOWED},
        tags=TAGS,
        operation_id="backups_restores_list",
    ),
    retrieve=extend_schema(
        summary="One restore: status, progress, rows restored, conflicts",
        description="A restore of another company (or, for non-staff, of the whole database) is a 404.",
        parameters=[RUN_PARAMETER],
        responses={
            200: RestoreRunSerializer,
            403: NOT_ALLOWED,
            404: OpenApiResponse(ERROR, description="No such restore that you may follow."),
        },
        tags=TAGS,
        operation_id="backups_restores_retrieve",
    ),
)
class RestoreRunViewSet(ApiViewMixin, viewsets.GenericViewSet):
    queryset = RestoreRun.objects.none()  # for the router and the schema; get_queryset() is what runs
    serializer_class = RestoreRunSerializer
    permission_classes = [BackupAccess]
    filter_backends = [StrictQueryParameters]
    lookup_value_regex = ID_PATTERN
    http_method_names = ["get", "head"]
    access = {"list": "viewers", "retrieve": "viewers"}

    def get_queryset(self):
        return visible_restores(self.request).select_related("created_by").order_by("-started_at", "-id")

    def list(self, request, *args, **kwargs):
        mark_stale_restores(visible_restores(request))
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(RestoreRunSerializer([restore_data(run) for run in page], many=True).data)

    def retrieve(self, request, *args, pk=None, **kwargs):
        mark_stale_restores(visible_restores(request).filter(pk=pk))
        run = self.get_queryset().filter(pk=pk).first()
        if run is None:
            raise NotFound(_("No restore with id %(id)s.") % {"id": pk})
        return Response(RestoreRunSerializer(restore_data(run)).data)


@extend_schema_view(
    retrieve=extend_schema(
        summary="What became of a requested backup (staff only)",
        description="Poll until `state` is created (then follow `backup_url`), busy or failed. Celery cannot "
        "tell a task still waiting for a worker from an unknown one: both read as queued.",
        parameters=[OpenApiParameter("task", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The task id.")],
        responses={
            200: BackupTaskSerializer,
            403: OpenApiResponse(ERROR, description="Only staff back up the whole database."),
        },
        tags=TAGS,
        operation_id="backups_tasks_retrieve",
    ),
)
class BackupTaskViewSet(ApiViewMixin, viewsets.GenericViewSet):
    queryset = Backup.objects.none()  # for the schema only
    serializer_class = BackupTaskSerializer
    permission_classes = [BackupAccess]
    filter_backends = [StrictQueryParameters]
    pagination_class = None
    http_method_names = ["get", "head"]
    access = {"retrieve": "staff"}

    def retrieve(self, request, *args, task=None, **kwargs):
        return Response(BackupTaskSerializer(task_data(str(task))).data)
