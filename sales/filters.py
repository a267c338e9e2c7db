"""Filters of the opportunity list and the pipeline board."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.web.filters import BootstrapFilterSet, TenantMemberFilter
from crm.web.forms import DateInput
from customers.search import matching_or_via_customer
from sales.models import Opportunity


def search_deals(queryset, name, value):
    """The `q` of the deal list and the board (and of the global search, search.engine)."""
    value = value.strip()
    if not value:
        return queryset
    return matching_or_via_customer(queryset, Q(name__icontains=value), value)


class BoardFilter(BootstrapFilterSet):
    """Who and which customer: the board shows every stage, so it filters by these only."""

    q = django_filters.CharFilter(label=_("Search"), method=search_deals, max_length=200)
    owner = TenantMemberFilter(label=_("Owner"), empty_label=_("Anyone"), null_label=_("No owner"))

    class Meta:
        model = Opportunity
        fields = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.form.fields["q"].widget.attrs.update(
            placeholder=_("Deal or customer"), type="search", **{"data-testid": "filter-search"}
        )


class OpportunityFilter(BoardFilter):
    stage = django_filters.ChoiceFilter(label=_("Stage"), choices=Opportunity.Stage.choices, empty_label=_("Any stage"))
    close_from = django_filters.DateFilter(
        label=_("Closes from"), field_name="expected_close_date", lookup_expr="gte", widget=DateInput()
    )
    close_to = django_filters.DateFilter(
        label=_("Closes until"), field_name="expected_close_date", lookup_expr="lte", widget=DateInput()
    )
    amount_min = django_filters.NumberFilter(
        label=_("Amount from"), field_name="amount", lookup_expr="gte", min_value=0
    )
    amount_max = django_filters.NumberFilter(
        label=_("Amount up to"), field_name="amount", lookup_expr="lte", min_value=0
    )

    class Meta:
        model = Opportunity
        fields = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.form.order_fields(["q", "stage", "owner", "close_from", "close_to", "amount_min", "amount_max"])
