"""GET /api/v1/search/?q=: the header's search over the API, grouped by type."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.api.viewsets import ApiViewMixin
from search.engine import MAX_LENGTH, PER_TYPE, clean_query, search

ERROR = {"$ref": "#/components/schemas/Error"}


class SearchView(ApiViewMixin, APIView):
    @extend_schema(
        operation_id="search",
        summary="Search customers, contacts, opportunities, tickets and tasks",
        description=(
            f"Names, emails, phones (by their digits) and subjects, as each type's list searches `?q=`; "
            f"up to {PER_TYPE} results per type the caller may see, `more` when the list has others."
        ),
        tags=["search"],
        parameters=[
            OpenApiParameter("q", OpenApiTypes.STR, required=True, description=f"1 to {MAX_LENGTH} characters.")
        ],
        responses={
            200: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="{q, groups: [{type, title, results: [{id, label, detail, url, api_url}], more, see_all}]}",
            ),
            400: ERROR,
        },
    )
    def get(self, request):
        unknown = set(request.query_params) - {"q"}
        if unknown:
            raise ValidationError({name: [_("Unknown parameter.")] for name in sorted(unknown)})
        try:
            q = clean_query(request.query_params.get("q"))
        except DjangoValidationError as error:
            raise ValidationError({"q": error.messages}) from error
        return Response({"q": q, "groups": search(request.user, q)})


urlpatterns = [path("search/", SearchView.as_view(), name="search")]
