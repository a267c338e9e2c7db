"""List filters of the customer, contact, interaction and ticket pages (django-filter, Bootstrap widgets)."""

import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.web.filters import BootstrapFilterSet, TenantMemberFilter
from crm.web.forms import DateInput
from customers.models import Contact, Customer, CustomerShare, Interaction, Ticket
from customers.search import matching_or_via_customer, tagged


def search(fields, phones=()):
    """A filter method: `value` icontains any of `fields`, or its digits are in one of `phones`.
    "customer__name" is searched through the customers' own index (matching_or_via_customer)."""

    def method(queryset, name, value):
        query = Q()
        for field in fields:
            if field != "customer__name":
                query |= Q(**{f"{field}__icontains": value})
        for field in phones:
            query |= Q(**{f"{field}__digits": value})
        if "customer__name" in fields:
            return matching_or_via_customer(queryset, query, value)
        return queryset.filter(query)

    return method


# The `q` search of each list, as filter methods (queryset, name, value); the global search
# (search.engine) calls the same functions.
search_customers = search(["name", "email"], phones=["phone"])
search_contacts = search(["name", "title", "email", "customer__name"], phones=["phone"])


def search_tickets(queryset, name, value):
    value = value.strip()
    if not value:
        return queryset
    return matching_or_via_customer(queryset, Q(subject__icontains=value), value)


def visible_customers(request):
    return Customer.objects.for_user(request.user)


class CustomerFilter(BootstrapFilterSet):
    q = django_filters.CharFilter(
        label=_("Search"),
        method=search_customers,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Name, email or phone")}),
    )
    owner = TenantMemberFilter(label=_("owner"), empty_label=_("Any owner"), null_label=_("No owner"))
    tier = django_filters.ChoiceFilter(label=_("tier"), choices=Customer.Tier.choices, empty_label=_("Any tier"))
    status = django_filters.ChoiceFilter(
        label=_("status"), choices=Customer.Status.choices, empty_label=_("Any status")
    )
    tag = django_filters.CharFilter(label=_("tag"), method="filter_tag")
    shared = django_filters.ChoiceFilter(
        label=_("sharing"), choices=[("me", _("Shared with me"))], empty_label=_("Any"), method="filter_shared"
    )

    class Meta:
        model = Customer
        fields = ["q", "owner", "tier", "status", "tag", "shared"]

    def filter_tag(self, queryset, name, value):
        return tagged(queryset, value)

    def filter_shared(self, queryset, name, value):
        mine = CustomerShare.objects.filter(user_id=self.request.user.pk).values("customer_id")
        return queryset.filter(pk__in=mine)


class CustomerChildFilter(BootstrapFilterSet):
    """Contacts and interactions: narrowed to one customer by `?customer=` (links from its page)."""

    customer = django_filters.ModelChoiceFilter(
        label=_("customer"), queryset=visible_customers, widget=forms.HiddenInput
    )


class ContactFilter(CustomerChildFilter):
    q = django_filters.CharFilter(
        label=_("Search"),
        method=search_contacts,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Name, title, email, phone or customer")}),
    )

    class Meta:
        model = Contact
        fields = ["q", "customer"]


class InteractionFilter(CustomerChildFilter):
    q = django_filters.CharFilter(
        label=_("Search"),
        method=search(["summary", "customer__name", "contact__name"]),
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Summary, customer or contact")}),
    )
    kind = django_filters.ChoiceFilter(label=_("kind"), choices=Interaction.Kind.choices, empty_label=_("Any kind"))
    author = TenantMemberFilter(label=_("author"), empty_label=_("Anyone"))
    occurred_after = django_filters.DateFilter(
        label=_("from"), field_name="occurred_at", lookup_expr="date__gte", widget=DateInput()
    )
    occurred_before = django_filters.DateFilter(
        label=_("until"), field_name="occurred_at", lookup_expr="date__lte", widget=DateInput()
    )

    class Meta:
        model = Interaction
        fields = ["q", "kind", "author", "occurred_after", "occurred_before", "customer"]


UNRESOLVED = "unresolved"


class TicketFilter(BootstrapFilterSet):
    q = django_filters.CharFilter(label=_("Search"), method=search_tickets, max_length=200)
    status = django_filters.ChoiceFilter(
        label=_("Status"),
        choices=[(UNRESOLVED, _("Unresolved (new, open, pending)")), *Ticket.Status.choices],
        empty_label=_("Any status"),
        method="filter_status",
    )
    priority = django_filters.ChoiceFilter(
        label=_("Priority"), choices=Ticket.Priority.choices, empty_label=_("Any priority")
    )
    assignee = TenantMemberFilter(label=_("Assignee"), empty_label=_("Anyone"), null_label=_("Unassigned"))
    due_from = django_filters.DateFilter(
        label=_("Due from"), field_name="due_at", lookup_expr="date__gte", widget=DateInput()
    )
    due_to = django_filters.DateFilter(
        label=_("Due until"), field_name="due_at", lookup_expr="date__lte", widget=DateInput()
    )
    overdue = django_filters.BooleanFilter(
        label=_("Overdue only"), method="filter_overdue", widget=forms.CheckboxInput()
    )

    class Meta:
        model = Ticket
        fields = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        fields = self.form.fields
        fields["q"].widget.attrs.update(placeholder=_("Subject or customer"), type="search")
        fields["overdue"].widget.attrs["class"] = "form-check-input d-block mt-2"
        fields["overdue"].widget.attrs["data-testid"] = "filter-overdue"

    def filter_status(self, queryset, name, value):
        if value == UNRESOLVED:
            return queryset.filter(status__in=Ticket.OPEN_STATUSES)
        return queryset.filter(status=value)

    def filter_overdue(self, queryset, name, value):
        if not value:
            return queryset
        return overdue(queryset)


def overdue(queryset):
    """Unresolved tickets whose due time has passed."""
    return queryset.filter(status__in=Ticket.OPEN_STATUSES, due_at__lt=timezone.now())
