"""Filters of the audit log page and its CSV export (the same filters for both)."""

import datetime

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from audit.models import AuditEvent
from crm.web.filters import BootstrapFilterSet, TenantMemberFilter
from crm.web.forms import DATE_VALIDATORS, DateInput, start_of


class AuditEventFilter(BootstrapFilterSet):
    actor = TenantMemberFilter(label=_("Actor"), empty_label=_("Anyone"))
    action = django_filters.ChoiceFilter(
        label=_("Action"), choices=AuditEvent.Action.choices, empty_label=_("Any action")
    )
    object_type = django_filters.CharFilter(
        label=_("Object type"),
        method="filter_object_type",
        max_length=50,
        widget=forms.TextInput(attrs={"list": "audit-object-types", "autocomplete": "off"}),
    )
    object_id = django_filters.CharFilter(label=_("Object id"), max_length=64)
    batch = django_filters.UUIDFilter(label=_("Batch"))
    since = django_filters.DateFilter(
        label=_("From"), method="filter_since", widget=DateInput(), validators=DATE_VALIDATORS
    )
    until = django_filters.DateFilter(
        label=_("Until"), method="filter_until", widget=DateInput(), validators=DATE_VALIDATORS
    )

    def filter_object_type(self, queryset, name, value):
        return queryset.filter(object_type=value.strip().lower()) if value else queryset

    def filter_since(self, queryset, name, value):
        return queryset.filter(created_at__gte=start_of(value)) if value else queryset

    def filter_until(self, queryset, name, value):
        # Up to the end of that day, in the user's time zone.
        return queryset.filter(created_at__lt=start_of(value + datetime.timedelta(days=1))) if value else queryset

    def used(self) -> list[str]:
        """The names of the filters given a value (never the values: they may be personal)."""
        return sorted(name for name, value in self.form.cleaned_data.items() if value not in (None, "", [], ()))
