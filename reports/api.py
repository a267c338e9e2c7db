"""Reports over the API: GET /api/v1/reports/ (the reports the token's role may read) and
GET /api/v1/reports/{report}/?start=&end=&owner=&currency= (its tables, as the page shows them)."""

from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.api.viewsets import ApiViewMixin
from reports.catalogue import REPORTS, may_read, readable
from reports.filters import ReportFilterForm
from reports.views import api_payload

TAGS = ["reports"]
ERROR = {"$ref": "#/components/schemas/Error"}
FILTERS = [
    OpenApiParameter("start", OpenApiTypes.DATE, description="First day of the period (default: see the report)."),
    OpenApiParameter("end", OpenApiTypes.DATE, description="Last day of the period, included."),
    OpenApiParameter("owner", OpenApiTypes.INT, description="User id of the owner (tickets: the assignee)."),
    OpenApiParameter("currency", OpenApiTypes.STR, description="Three-letter code; amounts are per currency anyway."),
]


class ReportListView(ApiViewMixin, APIView):
    @extend_schema(
        operation_id="reports_list", summary="The reports you may read", tags=TAGS, responses={200: OpenApiTypes.OBJECT}
    )
    def get(self, request):
        return Response(
            {
                "results": [
                    {"report": report.slug, "title": str(report.title), "description": str(report.description)}
                    for report in readable(request.user)
                ]
            }
        )


class ReportView(ApiViewMixin, APIView):
    @extend_schema(
        summary="One report: its tables of aggregates",
        tags=TAGS,
        parameters=[OpenApiParameter("report", OpenApiTypes.STR, OpenApiParameter.PATH, enum=list(REPORTS)), *FILTERS],
        responses={
            200: OpenApiResponse(
                OpenApiTypes.OBJECT, description="{report, title, filters, tables: [{key, title, columns, rows}]}"
            ),
            400: ERROR,
            403: ERROR,
            404: ERROR,
        },
    )
    def get(self, request, report):
        found = REPORTS.get(report)
        if found is None:
            raise NotFound(_("There is no such report."))
        if not may_read(request.user, found):
            raise PermissionDenied(_("You may not read this report."))
        unknown = set(request.query_params) - {"start", "end", "owner", "currency", "format"}
        if unknown:
            raise ValidationError({name: [_("Unknown parameter.")] for name in sorted(unknown)})
        form = ReportFilterForm(request.query_params, forward=found.forward)
        if not form.is_valid():
            raise ValidationError(
                {name: [e["message"] for e in errors] for name, errors in form.errors.get_json_data().items()}
            )
        filters = form.filters()
        return Response(api_payload(found, filters, found.compute(request.user, filters)))


urlpatterns = [
    path("reports/", ReportListView.as_view(), name="report-list"),
    path("reports/<str:report>/", ReportView.as_view(), name="report-detail"),
]
