"""List filters of opportunities (`?stage=won&owner=3`); unknown parameters are a 400."""

import django_filters

from crm.api.filters import ApiFilterSet, IdFilter
from sales.models import Opportunity


class OpportunityFilterSet(ApiFilterSet):
    customer = IdFilter(field_name="customer_id")
    stage = django_filters.ChoiceFilter(choices=Opportunity.Stage.choices)
    owner = IdFilter(field_name="owner_id", help_text="User id of the owner.")
    currency = django_filters.CharFilter(max_length=3)
    expected_close_after = django_filters.DateFilter(field_name="expected_close_date", lookup_expr="gte")
    expected_close_before = django_filters.DateFilter(field_name="expected_close_date", lookup_expr="lt")
    min_amount = django_filters.NumberFilter(field_name="amount", lookup_expr="gte", max_digits=14, decimal_places=2)
    max_amount = django_filters.NumberFilter(field_name="amount", lookup_expr="lte", max_digits=14, decimal_places=2)

    class Meta:
        model = Opportunity
        fields = []
