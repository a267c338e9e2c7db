"""List filters of the task page (django-filter, Bootstrap widgets)."""

import django_filters
from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from activities.models import Task
from crm.web.filters import BootstrapFilterSet, TenantMemberFilter


def search_tasks(queryset, name, value):
    """The `q` of the task list (and of the global search, search.engine)."""
    return queryset.filter(title__icontains=value)


class TaskFilter(BootstrapFilterSet):
    q = django_filters.CharFilter(
        label=_("Search"),
        method=search_tasks,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Title")}),
    )
    state = django_filters.ChoiceFilter(
        label=_("state"),
        choices=[("open", _("Open")), ("done", _("Done")), ("overdue", _("Overdue"))],
        empty_label=_("Open and done"),
        method="filter_state",
    )
    assignee = TenantMemberFilter(label=_("assignee"), empty_label=_("Anyone"), null_label=_("Unassigned"))
    priority = django_filters.ChoiceFilter(
        label=_("priority"), choices=Task.Priority.choices, empty_label=_("Any priority")
    )

    class Meta:
        model = Task
        fields = ["q", "state", "assignee", "priority"]

    def filter_state(self, queryset, name, value):
        if value == "done":
            return queryset.filter(done=True)
        if value == "overdue":
            return queryset.filter(done=False, due_at__lt=timezone.now())
        return queryset.filter(done=False)
