"""Backups over the API: the history, "back up now" (staff), and restores of the company or one customer.

Who sees what is backups.access, as in the browser; every write is one of
backups.actions (the browser's too), whose refusals the API's error handler turns
into 403 / 400 / 409 with their code. This module only reads requests and shapes
answers (backups.api.serializers).

- tenant admins (role admin in the token's company) and staff (is_staff or
  superuser) read the backup history, each backup with its last restore drill;
  everyone else gets a 403. Failure details and who started a backup are for staff;
- staff alone start a backup (it is a dump of the whole database; tenant admins get a 403);
- tenant admins restore their own company, or one customer of it, from a good
  backup, and follow their company's restores; another company's restore is a 404.
  Staff follow the whole-database restores (started in the browser).

Backups and restores take minutes, so nothing here waits for them:

- a restore is recorded as a queued RestoreRun and handed to the Celery task
  `run_restore` once committed (actions.start_restore); the answer is a 202 with
  the run, which `GET /api/v1/backups/restores/{id}/` follows;
- a backup is queued as the Celery task `backup_now` (actions.start_backup). Its
  Backup row can only be made by the task itself (take_backup creates it under the
  one-backup lock; a row made beforehand would be marked stale), so the answer is a
  202 with the task id and `GET /api/v1/backups/tasks/{task}/`, which names the
  backup as soon as its row exists. A request made while a backup holds the
  one-backup lock is refused at once with a 409 (code backup_running); one that
  loses a later race still reads "busy" in the task's status.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from backups import access, actions, presentation
from backups.api.serializers import (
    RESTORE_REQUEST,
    BackupCustomersSerializer,
    BackupSerializer,
    BackupTaskSerializer,
    RestoreRunSerializer,
    backup_data,
    customers_data,
    restore_body,
    restore_data,
    task_data,
)
from backups.forms import CustomerSearchForm
from backups.models import Backup, RestoreRun
from backups.restore import mark_stale_restores
from crm.api.filters import StrictQueryParameters
from crm.api.permissions import IsTenantMember, active_membership
from crm.api.viewsets import ID_PATTERN, ApiViewMixin
from crm.tenancy.acting import is_staff
from crm.tenancy.context import current_tenant

TAGS = ["backups"]
ERROR = {"$ref": "#/components/schemas/Error"}  # the one error body (crm.api.schema)


def visible_restores(request):
    """The restores the token's membership may follow (backups.access.visible_restores).

    The tenant middleware runs before token authentication, so `request.membership`
    is not set for API calls; the context's membership (the token's) is.
    """
    return access.visible_restores(request.user, active_membership(request))


def named(run) -> str:
    return presentation.customer_names([run]).get(run.pk, "")


class BackupAccess(IsTenantMember):
    """A member of the token's company (401/403), then the action's audience (403): see backups.access."""

    def has_permission(self, request, view):
        if not super().has_permission(request, view):
            self.message = IsTenantMember.message
            return False
        audience = view.audiences.get(view.action, access.VIEWERS)
        self.message = access.DENIED[audience]
        return access.allows(audience, request.user, active_membership(request))


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
    customers=extend_schema(
        summary="Find your company's customers in this backup by name",
        description="Names as the backup holds them (read from the backup itself, then cached for a few minutes), "
        "matched case-insensitively anywhere in the name, or an exact #id; people erased at their request are "
        "never listed. For your company's admins, while the backup can be restored.",
        parameters=[
            ID_PARAMETER,
            OpenApiParameter("q", str, description="Part of the name (empty: the first customers by name)."),
        ],
        responses={
            200: BackupCustomersSerializer,
            400: OpenApiResponse(ERROR, description="q is too long or holds a NUL character."),
            403: OpenApiResponse(ERROR, description="Only your company's admins restore it."),
            404: OpenApiResponse(ERROR, description="No such backup."),
            409: OpenApiResponse(ERROR, description="The backup cannot be restored or read (backup_not_restorable)."),
        },
        tags=TAGS,
        operation_id="backups_customers",
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
    audiences = {
        "list": access.VIEWERS,
        "retrieve": access.VIEWERS,
        "create": access.STAFF,
        "restore": access.ADMINS,
        "customers": access.ADMINS,
    }

    def get_queryset(self):
        return access.backups_with_latest_drill()

    def get_backup(self, pk) -> Backup:
        backup = self.get_queryset().filter(pk=pk).first()
        if backup is None:
            raise NotFound(_("No backup with id %(id)s.") % {"id": pk})
        return backup

    def shape(self, backup: Backup) -> dict:
        admin = access.is_tenant_admin(active_membership(self.request))
        return backup_data(backup, staff=is_staff(self.request.user), admin=admin)

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(BackupSerializer([self.shape(backup) for backup in page], many=True).data)

    def retrieve(self, request, *args, pk=None, **kwargs):
        return Response(BackupSerializer(self.shape(self.get_backup(pk))).data)

    def create(self, request, *args, **kwargs):
        task_id = actions.start_backup(acting_user=request.user)
        data = BackupTaskSerializer(task_data(task_id)).data
        return Response(data, status=status.HTTP_202_ACCEPTED, headers={"Location": data["url"]})

    @action(detail=True, methods=["post"])
    def restore(self, request, *args, pk=None, **kwargs):
        backup = self.get_backup(pk)
        body = restore_body(request.data)
        run = actions.start_restore(backup, acting_user=request.user, **body)
        data = RestoreRunSerializer(restore_data(run, named(run))).data
        return Response(data, status=status.HTTP_202_ACCEPTED, headers={"Location": data["url"]})

    @action(detail=True, methods=["get"])
    def customers(self, request, *args, pk=None, **kwargs):
        backup = self.get_backup(pk)
        search = CustomerSearchForm(request.query_params)
        unknown = set(request.query_params) - set(search.fields)
        if unknown or not search.is_valid():
            raise ValidationError(search.errors or {name[:100]: [_("Unknown query parameter.")] for name in unknown})
        actions.check_restore(backup, scope=RestoreRun.Scope.CUSTOMER, user=request.user)
        found = presentation.customer_matches(backup, current_tenant(), search.cleaned_data["q"])
        return Response(BackupCustomersSerializer(customers_data(found)).data)


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
    audiences = {"list": access.VIEWERS, "retrieve": access.VIEWERS}

    def get_queryset(self):
        runs = visible_restores(self.request).select_related("created_by", "backup", "tenant")
        return runs.order_by("-started_at", "-id")

    def list(self, request, *args, **kwargs):
        mark_stale_restores(visible_restores(request))
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        names = presentation.customer_names(page)
        data = [restore_data(run, names.get(run.pk, "")) for run in page]
        return self.get_paginated_response(RestoreRunSerializer(data, many=True).data)

    def retrieve(self, request, *args, pk=None, **kwargs):
        mark_stale_restores(visible_restores(request).filter(pk=pk))
        run = self.get_queryset().filter(pk=pk).first()
        if run is None:
            raise NotFound(_("No restore with id %(id)s.") % {"id": pk})
        return Response(RestoreRunSerializer(restore_data(run, named(run))).data)


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
    audiences = {"retrieve": access.STAFF}

    def retrieve(self, request, *args, task=None, **kwargs):
        return Response(BackupTaskSerializer(task_data(str(task))).data)
