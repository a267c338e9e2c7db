"""Opportunities over the API (see crm.api.viewsets.RecordViewSet)."""

from drf_spectacular.utils import extend_schema, extend_schema_view

from crm.api.viewsets import RecordViewSet
from sales import actions
from sales.api.filters import OpportunityFilterSet
from sales.api.serializers import OpportunitySerializer
from sales.models import Opportunity

TAGS = ["opportunities"]


@extend_schema_view(
    list=extend_schema(summary="List opportunities", tags=TAGS),
    create=extend_schema(summary="Create an opportunity", tags=TAGS),
    retrieve=extend_schema(summary="One opportunity", tags=TAGS),
    update=extend_schema(summary="Replace an opportunity", tags=TAGS),
    partial_update=extend_schema(summary="Change some fields of an opportunity", tags=TAGS),
    destroy=extend_schema(tags=TAGS),
    bulk_delete=extend_schema(tags=TAGS),
    history=extend_schema(tags=TAGS),
    revert=extend_schema(tags=TAGS),
)
class OpportunityViewSet(RecordViewSet):
    """Opportunities (the pipeline) of the customers the user can see."""

    model = Opportunity
    serializer_class = OpportunitySerializer
    list_from_columns = True  # crm.api.listplan
    filterset_class = OpportunityFilterSet
    search_fields = ("name",)
    ordering_fields = ("expected_close_date", "amount", "probability", "stage", "created_at", "updated_at", "name")

    def create_record(self, values):
        return actions.create_opportunity(values.pop("customer"), acting_user=self.request.user, **values)

    def update_record(self, record, values):
        return actions.update_opportunity(record, acting_user=self.request.user, **values)
