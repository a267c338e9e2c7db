"""Attachments over the API.

    GET    /api/v1/attachments/                      every file the user can see (metadata)
    GET    /api/v1/attachments/{id}/                 the file itself (a download)
    DELETE /api/v1/attachments/{id}/                 to the recycle bin
    GET    /api/v1/{resource}/{id}/attachments/      the record's files (metadata)
    POST   /api/v1/{resource}/{id}/attachments/      multipart/form-data, one or more `file` parts

resource: customers, contacts, opportunities, tickets.
"""

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status, views
from rest_framework.decorators import action
from rest_framework.exceptions import MethodNotAllowed
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from attachments import actions
from attachments.api.filters import AttachmentFilterSet
from attachments.api.serializers import AttachmentSerializer
from attachments.models import Attachment
from attachments.serving import file_response
from crm.api.pagination import PageNumberPagination
from crm.api.viewsets import ID_PATTERN, ApiViewMixin, RecordViewSet


@extend_schema_view(
    list=extend_schema(summary="List attachments", tags=["attachments"]),
    retrieve=extend_schema(
        summary="Download a file",
        tags=["attachments"],
        responses={(200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY)},
    ),
    destroy=extend_schema(tags=["attachments"]),
    bulk_delete=extend_schema(tags=["attachments"]),
    history=extend_schema(tags=["attachments"]),
    # Not operations of this resource: files are uploaded to their record and never changed.
    create=extend_schema(exclude=True),
    revert=extend_schema(exclude=True),
)
class AttachmentViewSet(RecordViewSet):
    """Files the user can see; new ones are uploaded to their record (see the module)."""

    model = Attachment
    serializer_class = AttachmentSerializer
    filterset_class = AttachmentFilterSet
    ordering_fields = ("created_at", "name", "size")
    http_method_names = ["get", "post", "delete", "head"]

    def perform_content_negotiation(self, request, force=False):
        # A download is the file whatever the Accept header asks for (curl -H "Accept: application/pdf").
        return super().perform_content_negotiation(request, force=force or self.action == "retrieve")

    def retrieve(self, request, *args, **kwargs):
        return file_response(self.get_object())

    def create(self, request, *args, **kwargs):
        raise MethodNotAllowed("POST", _("Upload files to their record: POST /api/v1/{resource}/{id}/attachments/."))

    def create_record(self, values):  # pragma: no cover - create() above refuses first
        raise MethodNotAllowed("POST")

    def update_record(self, record, values):  # pragma: no cover - files are never changed, only replaced
        raise MethodNotAllowed("PUT")

    @action(detail=True, methods=["post"], url_path=rf"history/(?P<history_id>{ID_PATTERN})/revert")
    def revert(self, request, *args, **kwargs):
        raise MethodNotAllowed("POST", _("A file cannot be reverted; upload it again."))


class RecordAttachmentsView(ApiViewMixin, views.APIView):
    """The files of one record: list them, or attach more."""

    model = None  # set per resource in urls.py
    parser_classes = [MultiPartParser]
    http_method_names = ["get", "post", "head"]

    def record(self, pk, *, for_upload=False):
        if for_upload:
            return actions.attachable(self.request.user, self.model, pk)
        return actions.visible_record(self.request.user, self.model, pk)

    @extend_schema(summary="A record's attachments", tags=["attachments"], responses=AttachmentSerializer(many=True))
    def get(self, request, pk):
        record = self.record(pk)
        rows = Attachment.objects.for_user(request.user, "view").on(record).select_related()
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(rows.order_by("-created_at", "-id"), request, view=self)
        return paginator.get_paginated_response(AttachmentSerializer(page, many=True).data)

    @extend_schema(
        summary="Attach files to a record",
        tags=["attachments"],
        request={
            "multipart/form-data": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}
        },
        responses={201: AttachmentSerializer(many=True)},
    )
    def post(self, request, pk):
        record = self.record(pk, for_upload=True)
        files = request.FILES.getlist("file") + request.FILES.getlist("files")
        created = actions.attach_files(record, files, acting_user=request.user)
        return Response(AttachmentSerializer(created, many=True).data, status=status.HTTP_201_CREATED)
