"""The generic record endpoint: every resource (customers, contacts, ...) is one subclass.

Reads: `Model.objects.for_user(request.user, "view")`, so other tenants' rows,
rows in the recycle bin and rows the user may not see are all a 404. A visible
record the user may not change is a 403. Writes go through the app's actions
(the subclass's `create_record` / `update_record`, with
`acting_user=request.user`), deletes through crm.recyclebin.actions (which
checks rights and audits refusals), history and reverts through
crm.history.api.

Versions: a read answers `ETag: "<version>"`; PUT, PATCH and DELETE with `If-Match`
naming another version are a 412 (the body names the current version), checked
again by the write itself. Without `If-Match` they apply to the record as it is.
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response

from crm.api.errors import PreconditionFailed
from crm.api.filters import (
    ID_PATTERN,
    FilterBackend,
    OrderingFilter,
    SearchFilter,
    StrictQueryParameters,
    reject_nul_bytes,
)
from crm.api.listplan import ListPlan
from crm.api.permissions import IsTenantMember, RoleMayAct
from crm.api.serializers import BatchResultSerializer, BulkDeleteSerializer
from crm.approvals.gate import ApprovalRequested
from crm.approvals.responses import PENDING_RESPONSE, approval_accepted
from crm.exports.lists import api_export_request, list_response
from crm.exports.writers import FORMATS
from crm.history.api import HistoryEndpoints
from crm.records.versions import Seen, etag, if_match_versions
from crm.recyclebin import actions as recyclebin


class ApiViewMixin:
    """Every API view: tenant members only, and no NUL bytes in the query string."""

    permission_classes = [IsTenantMember]
    http_method_names = ["get", "post", "put", "patch", "delete", "head"]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        reject_nul_bytes(request)


# The role right each action needs at all; None: the action checks for itself
# (deletes go through crm.recyclebin, which refuses and audits the attempt).
ROLE_ACTIONS = {
    "list": "view",
    "retrieve": "view",
    "history": "view",
    "create": "add",
    "update": "change",
    "partial_update": "change",
    "revert": "change",
    "destroy": None,
    "bulk_delete": None,
}
OBJECT_ACTIONS = {"update": "change", "partial_update": "change", "revert": "change"}


ID_PARAMETER = OpenApiParameter("id", OpenApiTypes.INT64, OpenApiParameter.PATH, description="The record's id.")
FORMAT_PARAMETER = OpenApiParameter(
    "format",
    OpenApiTypes.STR,
    OpenApiParameter.QUERY,
    enum=sorted(FORMATS),
    description="Export every row the filters select (not one page) as a CSV (UTF-8 with BOM) or XLSX file, streamed.",
)


@extend_schema_view(
    **{
        name: extend_schema(parameters=[ID_PARAMETER])
        for name in ("retrieve", "update", "partial_update", "destroy", "history", "revert")
    },
    list=extend_schema(parameters=[FORMAT_PARAMETER]),
)
class RecordViewSet(HistoryEndpoints, ApiViewMixin, viewsets.GenericViewSet):
    """A tenant-owned record type: list, create, read, replace, change, delete (to the bin), history, revert."""

    model = None
    serializer_class = None
    filterset_class = None
    search_fields: tuple = ()
    ordering_fields: tuple = ()
    ordering: tuple = ()
    filter_backends = [StrictQueryParameters, FilterBackend, SearchFilter, OrderingFilter]
    permission_classes = [RoleMayAct]
    lookup_value_regex = ID_PATTERN
    # True: list pages read only the serializer's columns and show them through its fields
    # (crm.api.listplan), checked when the class is defined: a serializer the plan cannot
    # show exactly as DRF would is refused with ImproperlyConfigured.
    list_from_columns = False
    list_plan: ListPlan | None = None
    extra_query_parameters = ("format",)  # ?format=csv|xlsx: the list as a file (crm.exports)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.model is not None:
            # Every resource writes through its app's actions: create_record(values) and
            # update_record(record, values). Checked here, at import, not on a request.
            missing = [name for name in ("create_record", "update_record") if not hasattr(cls, name)]
            if missing:
                raise TypeError(f"{cls.__name__} must define {' and '.join(missing)}")
            # For the router and the schema only; get_queryset() is what runs.
            cls.queryset = cls.model.all_objects.none()
            cls.ordering = cls.ordering or tuple(cls.model._meta.ordering)
            cls.list_plan = cls._plan_lists() if cls.list_from_columns else None

    @classmethod
    def _plan_lists(cls) -> ListPlan:
        if cls.get_serializer_class is not viewsets.GenericViewSet.get_serializer_class:
            raise ImproperlyConfigured(
                f"{cls.__name__}.list_from_columns needs one serializer_class: get_serializer_class() is its own."
            )
        try:
            return ListPlan.of(cls.serializer_class)
        except ImproperlyConfigured as refusal:
            raise ImproperlyConfigured(f"{cls.__name__}.list_from_columns: {refusal}") from None

    # -- plumbing ---------------------------------------------------------------------
    def role_action(self):
        return ROLE_ACTIONS.get(self.action, "view")

    def get_queryset(self):
        return self.model.objects.for_user(self.request.user, "view")

    def type_name(self) -> str:
        return self.model._meta.model_name

    def not_found(self, pk):
        return NotFound(_("No %(type)s with id %(id)s.") % {"type": self.type_name(), "id": pk})

    def get_object(self):
        pk = self.kwargs["pk"]
        record = self.get_queryset().filter(pk=pk).first()
        if record is None:
            raise self.not_found(pk)
        needed = OBJECT_ACTIONS.get(self.action)
        if needed and not self.model.objects.for_user(self.request.user, needed).filter(pk=pk).exists():
            raise PermissionDenied(
                _("You may not change this %(type)s.") % {"type": self.type_name()}
                if needed == "change"
                else _("You may not do this.")
            )
        return record

    def detail_url(self, record) -> str | None:
        try:
            return reverse(f"api:{self.basename}-detail", args=[record.pk])
        except NoReverseMatch:  # pragma: no cover
            return None

    # -- CRUD -----------------------------------------------------------------------------
    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        if wanted := api_export_request(request):  # ?format=csv|xlsx: every row, as a file
            fmt, filters = wanted
            return list_response(queryset, fmt=fmt, filters=filters, acting_user=request.user)
        if self.list_plan is None:
            page = self.paginate_queryset(queryset)
            return self.get_paginated_response(self.get_serializer(page, many=True).data)
        page = self.paginate_queryset(queryset.values_list(*self.list_plan.columns))
        return self.get_paginated_response(self.list_plan.rows(page))

    def retrieve(self, request, *args, **kwargs):
        record = self.get_object()
        return Response(self.get_serializer(record).data, headers={"ETag": etag(record.version)})

    def expected_version(self, record) -> int | None:
        """The version `If-Match` names (412 when the record is no longer at it); None without the header."""
        accepted = if_match_versions(self.request.headers.get("If-Match"))
        if accepted is None:
            return None
        if record.version not in accepted:
            raise PreconditionFailed(record, record.version)
        return record.version

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        record = self.create_record(dict(serializer.validated_data))
        headers = {"Location": url} if (url := self.detail_url(record)) else {}
        return Response(self.get_serializer(record).data, status=status.HTTP_201_CREATED, headers=headers)

    def update(self, request, *args, partial=False, **kwargs):
        record = self.get_object()
        expected = self.expected_version(record)
        serializer = self.get_serializer(record, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        record.seen_version = expected  # the action writes only if the record is still at it
        record = self.update_record(record, dict(serializer.validated_data))
        return Response(self.get_serializer(record).data, headers={"ETag": etag(record.version)})

    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)

    @extend_schema(
        summary="Move the record to the recycle bin",
        description="Soft delete: the record and its children go to the recycle bin as one batch.",
        responses={204: OpenApiResponse(description="Moved to the recycle bin.")},
    )
    def destroy(self, request, *args, **kwargs):
        record = self.get_object()
        expected = self.expected_version(record)
        rows = self.model.objects.filter(pk=record.pk)
        if expected is not None:
            rows = rows.filter(version=expected)
        if not recyclebin.delete(rows, acting_user=request.user).total and expected is not None:
            raise PreconditionFailed(record, self.model.all_objects.get(pk=record.pk).version)
        return Response(status=status.HTTP_204_NO_CONTENT)

    # -- set-based delete ---------------------------------------------------------------
    @extend_schema(
        summary="Move many records to the recycle bin at once",
        description=(
            "All the ids or none: any id that is not visible to you is a 404, any you may not delete a 403. "
            "The records and their children become one batch in the recycle bin (undo it with "
            'POST /api/v1/recycle-bin/restore/ {"batch": ...}).'
        ),
        request=BulkDeleteSerializer,
        responses={200: BatchResultSerializer, 202: PENDING_RESPONSE},
    )
    @action(detail=False, methods=["post"], url_path="bulk-delete", url_name="bulk-delete")
    def bulk_delete(self, request, *args, **kwargs):
        serializer = BulkDeleteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        ids = list(dict.fromkeys(serializer.validated_data["ids"]))
        visible = self.get_queryset().filter(pk__in=ids)
        missing = sorted(set(ids) - set(visible.values_list("pk", flat=True)))
        if missing:
            shown = ", ".join(str(pk) for pk in missing[:20]) + (" …" if len(missing) > 20 else "")
            raise NotFound(_("No %(type)s with id %(ids)s.") % {"type": self.type_name(), "ids": shown})
        seen = Seen(ids, {pk: v for pk, v in serializer.validated_data.get("versions", {}).items() if pk in set(ids)})
        changed = seen.changed_since(self.model)
        if changed:
            raise PreconditionFailed(
                detail=_("Some of these records changed since you read them; nothing was deleted."), changed=changed
            )
        try:
            batch = recyclebin.delete(
                seen.narrow(self.model.objects),
                acting_user=request.user,
                reason=serializer.validated_data.get("reason", ""),
            )
        except ApprovalRequested as asked:
            return approval_accepted(asked.approval)
        return Response(BatchResultSerializer({"batch": batch.id, "counts": batch.counts, "total": batch.total}).data)
