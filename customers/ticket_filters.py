"""Filters of the ticket list."""

import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.filters import BootstrapFilterSet, TenantMemberFilter
from crm.forms import DateInput
from customers.models import Ticket

UNRESOLVED = "unresolved"


class TicketFilter(BootstrapFilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search", max_length=200)
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

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(subject__icontains=value) | Q(customer__name__icontains=value))

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
