"""List filters of the customer resources (`?status=active&owner=3`); unknown parameters are a 400."""

import django_filters

from crm.api.filters import ApiFilterSet, DateTimeFilter, IdFilter
from customers.models import Contact, Customer, Interaction, Ticket
from customers.search import tagged


class CustomerFilterSet(ApiFilterSet):
    kind = django_filters.ChoiceFilter(choices=Customer.Kind.choices)
    status = django_filters.ChoiceFilter(choices=Customer.Status.choices)
    tier = django_filters.ChoiceFilter(choices=Customer.Tier.choices)
    owner = IdFilter(field_name="owner_id", help_text="User id of the owner.")
    industry = django_filters.CharFilter(lookup_expr="iexact", max_length=100)
    tag = django_filters.CharFilter(
        method="filter_tag", max_length=50, help_text="Customers carrying this tag (in any case)."
    )
    created_after = DateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = DateTimeFilter(field_name="created_at", lookup_expr="lt")
    updated_after = DateTimeFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = Customer
        fields = []

    def filter_tag(self, queryset, name, value):
        return tagged(queryset, value)


class ContactFilterSet(ApiFilterSet):
    customer = IdFilter(field_name="customer_id")
    email = django_filters.CharFilter(lookup_expr="iexact", max_length=254)

    class Meta:
        model = Contact
        fields = []


class InteractionFilterSet(ApiFilterSet):
    customer = IdFilter(field_name="customer_id")
    contact = IdFilter(field_name="contact_id")
    kind = django_filters.ChoiceFilter(choices=Interaction.Kind.choices)
    author = IdFilter(field_name="author_id", help_text="User id of the author.")
    occurred_after = DateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    occurred_before = DateTimeFilter(field_name="occurred_at", lookup_expr="lt")

    class Meta:
        model = Interaction
        fields = []


class TicketFilterSet(ApiFilterSet):
    customer = IdFilter(field_name="customer_id")
    status = django_filters.ChoiceFilter(choices=Ticket.Status.choices)
    priority = django_filters.ChoiceFilter(choices=Ticket.Priority.choices)
    assignee = IdFilter(field_name="assignee_id", help_text="User id of the assignee.")
    due_after = DateTimeFilter(field_name="due_at", lookup_expr="gte")
    due_before = DateTimeFilter(field_name="due_at", lookup_expr="lt")

    class Meta:
        model = Ticket
        fields = []
