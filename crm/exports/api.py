"""GET /api/v1/exports/company/: the company's ZIP (administrators of the token's company)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.views import APIView

from crm.api.viewsets import ApiViewMixin
from crm.exports.views import company_zip_response


class CompanyExportView(ApiViewMixin, APIView):
    @extend_schema(
        operation_id="company_export",
        summary="Export the whole company as a ZIP of CSV files with a manifest (administrators)",
        tags=["exports"],
        responses={
            (200, "application/zip"): OpenApiResponse(OpenApiTypes.BINARY, description="The ZIP, streamed."),
            403: {"$ref": "#/components/schemas/Error"},
        },
    )
    def get(self, request):
        return company_zip_response(request.user)
