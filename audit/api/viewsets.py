"""The audit log over the API: read-only, the active tenant's events, for admins and managers."""

import django_filters
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from audit.models import AuditEvent
from crm.api.filters import ApiFilterSet, DateTimeFilter, FilterBackend, IdFilter, OrderingFilter, StrictQueryParameters
from crm.api.permissions import IsTenantAdminOrManager
from crm.api.viewsets import ID_PATTERN, ApiViewMixin
from crm.tenancy.context import current_tenant

TAGS = ["audit events"]


class AuditEventSerializer(serializers.ModelSerializer):
    """One audited action."""

    detail = serializers.JSONField(help_text="Ids, field names and counts; never personal data values.")

    class Meta:
        model = AuditEvent
        fields = (
            "id",
            "seq",
            "created_at",
            "actor",
            "actor_username",
            "process",
            "action",
            "object_type",
            "object_id",
            "batch",
            "count",
            "request_id",
            "ip_address",
            "user_agent",
            "detail",
            "prev_hash",
            "hash",
        )
        read_only_fields = fields


class AuditEventFilterSet(ApiFilterSet):
    actor = IdFilter(field_name="actor_id", help_text="User id of who acted.")
    action = django_filters.ChoiceFilter(choices=AuditEvent.Action.choices)
    object_type = django_filters.CharFilter(max_length=50)
    object_id = django_filters.CharFilter(max_length=64)
    batch = django_filters.UUIDFilter()
    created_after = DateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = DateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = AuditEvent
        fields = []


@extend_schema_view(
    list=extend_schema(summary="The company's audit log, newest first", tags=TAGS),
    retrieve=extend_schema(
        summary="One audit event",
        tags=TAGS,
        parameters=[OpenApiParameter("id", OpenApiTypes.INT64, OpenApiParameter.PATH)],
    ),
)
class AuditEventViewSet(ApiViewMixin, viewsets.GenericViewSet):
    """What happened in the company (append-only, hash-chained): admins and managers only."""

    queryset = AuditEvent.objects.none()  # for the router and the schema; get_queryset() is what runs
    serializer_class = AuditEventSerializer
    permission_classes = [IsTenantAdminOrManager]
    filter_backends = [StrictQueryParameters, FilterBackend, OrderingFilter]
    filterset_class = AuditEventFilterSet
    ordering_fields = ("created_at", "seq")
    ordering = ("-created_at", "-seq")
    lookup_value_regex = ID_PATTERN
    http_method_names = ["get", "head"]

    def get_queryset(self):
        return AuditEvent.objects.filter(tenant=current_tenant())

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, *args, pk=None, **kwargs):
        event = self.get_queryset().filter(pk=pk).first()
        if event is None:
            raise NotFound(_("No audit event with id %(id)s.") % {"id": pk})
        return Response(self.get_serializer(event).data)
