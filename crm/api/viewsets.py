"""The generic record endpoint: every resource (customers, contacts, ...) is one subclass.

Reads: `Model.objects.for_user(request.user, "view")`, so other tenants' rows,
rows in the recycle bin and rows the user may not see are all a 404. A visible
record the user may not change is a 403. Writes go through the app's actions
(the subclass's `create_record` / `update_record`), deletes through
crm.recyclebin (which checks rights and audits refusals), reverts through
crm.history.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response

from crm import history, recyclebin
from crm.api.errors import Conflict, django_validation_fields, validation_message
from crm.api.filters import FilterBackend, OrderingFilter, SearchFilter, StrictQueryParameters, reject_nul_bytes
from crm.api.permissions import IsTenantMember, RoleMayAct
from crm.api.serializers import BatchResultSerializer, BulkDeleteSerializer, VersionSerializer, list_plan
from crm.filters import tenant_members

ID_PATTERN = r"[0-9]{1,19}"


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


@extend_schema_view(
    **{
        name: extend_schema(parameters=[ID_PARAMETER])
        for name in ("retrieve", "update", "partial_update", "destroy", "history", "revert")
    }
)
class RecordViewSet(ApiViewMixin, viewsets.GenericViewSet):
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
        plan = list_plan(self.get_serializer_class())
        if plan is None:
            page = self.paginate_queryset(queryset)
            return self.get_paginated_response(self.get_serializer(page, many=True).data)
        page = self.paginate_queryset(queryset.values_list(*plan.columns))
        return self.get_paginated_response(plan.rows(page))

    def retrieve(self, request, *args, **kwargs):
        return Response(self.get_serializer(self.get_object()).data)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        record = self.create_record(dict(serializer.validated_data))
        headers = {"Location": url} if (url := self.detail_url(record)) else {}
        return Response(self.get_serializer(record).data, status=status.HTTP_201_CREATED, headers=headers)

    def update(self, request, *args, partial=False, **kwargs):
        record = self.get_object()
        serializer = self.get_serializer(record, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        record = self.update_record(record, dict(serializer.validated_data))
        return Response(self.get_serializer(record).data)

    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)

    @extend_schema(
        summary="Move the record to the recycle bin",
        description="Soft delete: the record and its children go to the recycle bin as one batch.",
        responses={204: OpenApiResponse(description="Moved to the recycle bin.")},
    )
    def destroy(self, request, *args, **kwargs):
        record = self.get_object()
        recyclebin.delete(request.user, self.model.objects.filter(pk=record.pk))
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
        responses={200: BatchResultSerializer},
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
        batch = recyclebin.delete(request.user, self.model.objects.filter(pk__in=ids))
        return Response(BatchResultSerializer({"batch": batch.id, "counts": batch.counts, "total": batch.total}).data)

    # -- history --------------------------------------------------------------------------
    @extend_schema(
        summary="Versions of the record, newest first, each with what it changed",
        responses={200: VersionSerializer(many=True)},
        filters=False,
    )
    @action(
        detail=True,
        methods=["get"],
        filter_backends=[StrictQueryParameters],
        filterset_class=None,
        search_fields=(),
        ordering_fields=(),
    )
    def history(self, request, *args, **kwargs):
        record = self.get_object()
        versions = record.history.select_related("history_user").order_by("-history_date", "-history_id")
        page = self.paginate_queryset(self.filter_queryset(versions))
        before = None
        if page:
            last = page[-1]
            before = (
                record.history.filter(
                    Q(history_date__lt=last.history_date)
                    | Q(history_date=last.history_date, history_id__lt=last.history_id)
                )
                .order_by("-history_date", "-history_id")
                .first()
            )
        rows = []
        for index, version in enumerate(page):
            previous = page[index + 1] if index + 1 < len(page) else before
            rows.append(
                {
                    "history_id": version.history_id,
                    "history_date": version.history_date,
                    "history_type": version.history_type,
                    "user": version.history_user.get_username() if version.history_user_id else None,
                    "reason": version.history_change_reason,
                    "changes": _changes(version, previous),
                }
            )
        return self.get_paginated_response(VersionSerializer(rows, many=True).data)

    @extend_schema(
        summary="Put a version's values back (as a new, audited change)",
        description="409 when the old values would break a rule today (an email taken since, ...).",
        request=None,
        parameters=[
            OpenApiParameter("history_id", OpenApiTypes.INT64, OpenApiParameter.PATH, description="A version's id.")
        ],
    )
    @action(detail=True, methods=["post"], url_path=rf"history/(?P<history_id>{ID_PATTERN})/revert")
    def revert(self, request, *args, history_id=None, **kwargs):
        record = self.get_object()
        version = history.version_of(record, int(history_id))
        if version is None:
            raise NotFound(_("This %(type)s has no version %(id)s.") % {"type": self.type_name(), "id": history_id})
        self.check_revert_references(record, version)
        try:
            record = history.revert(record, version)
        except DjangoValidationError as error:
            fields = django_validation_fields(error)
            raise Conflict(
                _("This version cannot be put back: %(reason)s") % {"reason": validation_message(fields)},
                "revert_conflict",
                fields=fields,
            ) from error
        return Response(self.get_serializer(record).data)

    def check_revert_references(self, record, version):
        """Refuse (409) a version that points at a record now in the bin, or at someone no longer a member.

        crm.history.revert validates foreign keys against the base manager, so on
        its own it would bring back e.g. a contact whose customer is in the bin.
        """
        fields = {}
        for field in history.revertible_fields(type(record)):
            target = getattr(version, field.attname, None)
            if not field.is_relation or target is None or target == getattr(record, field.attname):
                continue
            related = field.related_model
            if related is get_user_model():
                ok = tenant_members().filter(pk=target).exists()
                message = _("User %(id)s is no longer a member of this company.") % {"id": target}
            else:
                ok = related.objects.for_user(self.request.user, "view").filter(pk=target).exists()
                message = _("%(type)s %(id)s is in the recycle bin or not visible to you; restore it first.") % {
                    "type": related._meta.model_name,
                    "id": target,
                }
            if not ok:
                fields[field.name] = [message]
        if fields:
            raise Conflict(
                _("This version cannot be put back: %(reason)s") % {"reason": validation_message(fields)},
                "revert_conflict",
                fields=fields,
            )


def _changes(version, previous) -> list[dict]:
    if previous is None:
        return []
    delta = version.diff_against(previous, excluded_fields=["updated_at"])
    return [{"field": change.field, "old": change.old, "new": change.new} for change in delta.changes]
