"""Erasure over the API (admins of the token's company):

- POST /api/v1/<customers|contacts>/{id}/erase/: erase now (201 with the report;
  403 for non-admins, 404 for a record of another company or already erased,
  409 with code legal_hold under legal hold);
- GET /api/v1/erasures/: the company's erasures; GET /api/v1/erasures/{event id}/: one report.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.urls import re_path
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.api.filters import ID_PATTERN
from crm.api.permissions import active_membership
from crm.api.viewsets import ApiViewMixin
from crm.records.registry import record_types
from crm.tenancy.roles import Role
from privacy import actions
from privacy.report import erasure_report, erasures

ERROR = {"$ref": "#/components/schemas/Error"}
TAGS = ["privacy"]


def _require_admin(request) -> None:
    membership = active_membership(request)
    if membership is None or membership.role != Role.ADMIN:
        raise PermissionDenied(_("Only administrators may see erasures."))


def _report_or_404(event_id) -> dict:
    report = erasure_report(event_id)
    if report is None:
        raise NotFound(_("No such erasure in this company."))
    return report


class EraseView(ApiViewMixin, APIView):
    record_type = ""

    @extend_schema(
        summary="Erase a person's record now (admins)",
        tags=TAGS,
        request=None,
        responses={201: OpenApiResponse(description="The erasure report."), 403: ERROR, 404: ERROR, 409: ERROR},
    )
    def post(self, request, id):
        model = actions.erasable_model(self.record_type)
        event = actions.erase(model, int(id), acting_user=request.user)
        return Response(_report_or_404(event.pk), status=status.HTTP_201_CREATED)


class PersonalDataView(ApiViewMixin, APIView):
    record_type = ""

    @extend_schema(
        summary="Everything held about a person, as a ZIP of JSON and CSV (admins)",
        tags=TAGS,
        responses={(200, "application/zip"): OpenApiResponse(description="The ZIP."), 403: ERROR, 404: ERROR},
    )
    def get(self, request, id):
        model = actions.erasable_model(self.record_type)
        data = actions.export_personal_data(model, int(id), acting_user=request.user)
        response = HttpResponse(data, content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="{self.record_type}-{id}-personal-data.zip"'
        return response


class ErasureListView(ApiViewMixin, APIView):
    @extend_schema(
        operation_id="erasures_list",
        summary="The company's erasures (admins)",
        tags=TAGS,
        responses={200: OpenApiResponse(), 403: ERROR},
    )
    def get(self, request):
        _require_admin(request)
        rows = [
            {**row, "erased_at": row["erased_at"].isoformat(), "erased_by": str(row["erased_by"] or "")}
            for row in erasures()
        ]
        return Response({"results": rows})


class ErasureReportView(ApiViewMixin, APIView):
    @extend_schema(
        operation_id="erasures_report",
        summary="One erasure's report (admins)",
        tags=TAGS,
        responses={200: OpenApiResponse(), 403: ERROR, 404: ERROR},
    )
    def get(self, request, id):
        _require_admin(request)
        return Response(_report_or_404(int(id)))


urlpatterns = [
    *(
        re_path(
            rf"^{entry.api_prefix}/(?P<id>{ID_PATTERN})/erase/$",
            EraseView.as_view(record_type=name),
            name=f"{name}-erase",
        )
        for name, entry in record_types().items()
        if entry.erasable and entry.api_prefix
    ),
    *(
        re_path(
            rf"^{entry.api_prefix}/(?P<id>{ID_PATTERN})/personal-data/$",
            PersonalDataView.as_view(record_type=name),
            name=f"{name}-personal-data",
        )
        for name, entry in record_types().items()
        if entry.erasable and entry.api_prefix
    ),
    re_path(r"^erasures/$", ErasureListView.as_view(), name="erasure-list"),
    re_path(rf"^erasures/(?P<id>{ID_PATTERN})/$", ErasureReportView.as_view(), name="erasure-report"),
]
