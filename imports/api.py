"""Imports over the API:

- POST /api/v1/imports/ (multipart: file, type, mapping (JSON), mode, dry_run, duplicates=skip|create): upload and
  preview; unless dry_run, then write it. 201 with the import (its progress while a worker runs it);
- GET /api/v1/imports/ and /api/v1/imports/{id}/: status, progress (rows done of total), counts;
- GET /api/v1/imports/{id}/rows/?outcome=error: the preview, line by line (paginated, 500 a page);
- POST /api/v1/imports/{id}/run/: write a previewed import; POST /api/v1/imports/{id}/revert/.
Another company's import, or a colleague's for a rep, is a 404.
"""

from __future__ import annotations

import json

from django.urls import re_path
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.api.filters import ID_PATTERN
from crm.api.viewsets import ApiViewMixin
from imports import actions, tasks
from imports.models import Import, ImportRow

ERROR = {"$ref": "#/components/schemas/Error"}
TAGS = ["imports"]
ROWS_PAGE = 500


def describe(job: Import) -> dict:
    return {
        "id": job.pk,
        "type": job.record_type,
        "mode": job.mode,
        "duplicates": "create" if job.allow_duplicates else "skip",
        "status": job.status,
        "file": job.filename,
        "encoding": job.encoding,
        "headers": job.headers,
        "mapping": job.mapping,
        "total": job.total,
        "done": actions.progress(job),
        "created": job.created,
        "updated": job.updated,
        "skipped": job.skipped,
        "errors": job.errors,
        "message": job.message,
        "revert_batch": str(job.revert_batch) if job.revert_batch else None,
        "created_at": job.created_at.isoformat(),
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
    }


def job_or_404(request, id) -> Import:
    job = actions.visible_imports(request.user).filter(pk=int(id)).first() if int(id) < 2**63 else None
    if job is None:
        raise NotFound(_("No such import."))
    return job


class ImportListView(ApiViewMixin, APIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        operation_id="imports_list", summary="The imports you may see", tags=TAGS, responses={200: OpenApiResponse()}
    )
    def get(self, request):
        jobs = actions.visible_imports(request.user)[:100]
        return Response({"results": [describe(job) for job in jobs]})

    @extend_schema(
        operation_id="imports_create",
        summary="Upload a CSV or XLSX file, preview it and (unless dry_run) import it",
        tags=TAGS,
        request={
            "multipart/form-data": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}
        },
        responses={201: OpenApiResponse(), 400: ERROR, 403: ERROR},
    )
    def post(self, request):
        upload = request.FILES.get("file")
        if upload is None:
            raise ValidationError({"file": [_("Attach the file to import.")]})
        mapping = request.data.get("mapping") or None
        if mapping is not None:
            try:
                mapping = json.loads(mapping)
            except (TypeError, ValueError):
                raise ValidationError({"mapping": [_('The mapping is JSON: {"column header": "field"}.')]}) from None
        job = actions.upload(
            upload.read(),
            upload.name,
            request.data.get("type", "customers"),
            mode=request.data.get("mode") or "create",
            mapping=mapping,
            allow_duplicates=request.data.get("duplicates") == "create",
            acting_user=request.user,
        )
        dry_run = str(request.data.get("dry_run", "")).lower() in ("1", "true", "yes", "on")
        job = tasks.start(job, "preview", request.user, and_run=not dry_run)
        return Response(describe(job), status=status.HTTP_201_CREATED)


class ImportDetailView(ApiViewMixin, APIView):
    @extend_schema(
        operation_id="imports_retrieve",
        summary="An import: status, progress, counts",
        tags=TAGS,
        responses={200: OpenApiResponse(), 404: ERROR},
    )
    def get(self, request, id):
        return Response(describe(job_or_404(request, id)))


class ImportRowsView(ApiViewMixin, APIView):
    @extend_schema(
        operation_id="imports_rows",
        summary="The preview, line by line",
        tags=TAGS,
        responses={200: OpenApiResponse(), 404: ERROR},
    )
    def get(self, request, id):
        job = job_or_404(request, id)
        rows = ImportRow.all_objects.filter(tenant_id=job.tenant_id, batch=job).order_by("line")
        outcome = request.query_params.get("outcome")
        if outcome:
            rows = rows.filter(outcome=outcome)
        after = request.query_params.get("after", "0")
        rows = rows.filter(line__gt=int(after) if after.isdigit() else 0)[:ROWS_PAGE]
        results = [
            {"line": row.line, "outcome": row.outcome, "reason": row.reason, "record_id": row.record_id} for row in rows
        ]
        return Response({"results": results})


class ImportRunView(ApiViewMixin, APIView):
    @extend_schema(
        operation_id="imports_run",
        summary="Write a previewed import",
        tags=TAGS,
        request=None,
        responses={200: OpenApiResponse(), 404: ERROR, 409: ERROR},
    )
    def post(self, request, id):
        job = tasks.start(job_or_404(request, id), "run", request.user)
        return Response(describe(job))


class ImportRevertView(ApiViewMixin, APIView):
    @extend_schema(
        operation_id="imports_revert",
        summary="Revert an import: created records to the bin as one batch, updated fields put back",
        tags=TAGS,
        request=None,
        responses={200: OpenApiResponse(), 403: ERROR, 404: ERROR, 409: ERROR},
    )
    def post(self, request, id):
        job = actions.revert(job_or_404(request, id), acting_user=request.user)
        return Response(describe(job))


urlpatterns = [
    re_path(r"^imports/$", ImportListView.as_view(), name="import-list"),
    re_path(rf"^imports/(?P<id>{ID_PATTERN})/$", ImportDetailView.as_view(), name="import-detail"),
    re_path(rf"^imports/(?P<id>{ID_PATTERN})/rows/$", ImportRowsView.as_view(), name="import-rows"),
    re_path(rf"^imports/(?P<id>{ID_PATTERN})/run/$", ImportRunView.as_view(), name="import-run"),
    re_path(rf"^imports/(?P<id>{ID_PATTERN})/revert/$", ImportRevertView.as_view(), name="import-revert"),
]
