"""List filters of tasks (`?assignee=3&done=false&due_before=...`); unknown parameters are a 400."""

import django_filters

from activities.models import Task
from crm.api.filters import ApiFilterSet, DateTimeFilter, IdFilter


class TaskFilterSet(ApiFilterSet):
    assignee = IdFilter(field_name="assignee_id", help_text="User id of the assignee.")
    customer = IdFilter(field_name="customer_id")
    contact = IdFilter(field_name="contact_id")
    opportunity = IdFilter(field_name="opportunity_id")
    ticket = IdFilter(field_name="ticket_id")
    done = django_filters.BooleanFilter()
    priority = django_filters.ChoiceFilter(choices=Task.Priority.choices)
    due_after = DateTimeFilter(field_name="due_at", lookup_expr="gte")
    due_before = DateTimeFilter(field_name="due_at", lookup_expr="lt")

    class Meta:
        model = Task
        fields = []
