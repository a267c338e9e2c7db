"""Query-parameter handling for list endpoints: strict, bounded, documented.

* Unknown query parameters are a 400 that lists the allowed ones (a typo such
  as `?stauts=open` must not silently return everything).
* NUL bytes anywhere in the query string are a 400 (PostgreSQL refuses them).
* `ordering` accepts only the listed fields; `search` is at most 200 characters.
"""

from __future__ import annotations

from datetime import UTC

import django_filters
from django import forms
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.contrib.django_filters import DjangoFilterExtension
from drf_spectacular.drainage import add_trace_message
from drf_spectacular.plumbing import get_view_model
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import filters
from rest_framework.exceptions import ValidationError

MAX_PK = 2**63 - 1  # PostgreSQL bigint
ID_PATTERN = r"[0-9]{1,19}"  # an id in a URL: at most 19 digits, then MAX_PK decides
MAX_SEARCH_LENGTH = 200


def reject_nul_bytes(request) -> None:
    for name, values in request.query_params.lists():
        if "\x00" in name or any("\x00" in value for value in values):
            raise ValidationError({name.replace("\x00", "") or "query": [_("NUL characters are not allowed.")]})


class StrictQueryParameters(filters.BaseFilterBackend):
    """Refuses query parameters the endpoint does not know; runs before the other backends."""

    def filter_queryset(self, request, queryset, view):
        allowed = allowed_query_parameters(view)
        unknown = sorted(set(request.query_params) - allowed)
        if unknown:
            raise ValidationError(
                {
                    name[:100]: [
                        _("Unknown query parameter. Allowed: %(allowed)s.") % {"allowed": ", ".join(sorted(allowed))}
                    ]
                    for name in unknown[:10]
                }
            )
        return queryset


def allowed_query_parameters(view) -> set[str]:
    names = set(getattr(view, "extra_query_parameters", ()))
    filterset_class = getattr(view, "filterset_class", None)
    if filterset_class is not None:
        names |= set(filterset_class.base_filters)
    if getattr(view, "search_fields", None):
        names.add(filters.SearchFilter.search_param)
    if getattr(view, "ordering_fields", None):
        names.add(filters.OrderingFilter.ordering_param)
    paginator = getattr(view, "paginator", None)
    if paginator is not None:
        names |= paginator.query_parameters()
    return names


class OrderingFilter(filters.OrderingFilter):
    """`?ordering=name,-created_at`: only the view's `ordering_fields`; the id breaks ties."""

    def get_ordering(self, request, queryset, view):
        raw = request.query_params.get(self.ordering_param)
        allowed = list(view.ordering_fields)
        if raw:
            terms = [term.strip() for term in raw.split(",") if term.strip()]
            invalid = [term for term in terms if term.lstrip("-") not in allowed]
            if invalid:
                raise ValidationError(
                    {
                        self.ordering_param: [
                            _("Cannot order by %(fields)s. Allowed: %(allowed)s (prefix - for descending).")
                            % {"fields": ", ".join(term[:50] for term in invalid[:5]), "allowed": ", ".join(allowed)}
                        ]
                    }
                )
            ordering = terms
        else:
            ordering = list(view.ordering)
        if not any(term.lstrip("-") in ("id", "pk") for term in ordering):
            ordering.append("-id" if ordering and ordering[0].startswith("-") else "id")
        return ordering

    def get_schema_operation_parameters(self, view):
        choices = [value for field in view.ordering_fields for value in (field, f"-{field}")]
        return [
            {
                "name": self.ordering_param,
                "required": False,
                "in": "query",
                "description": (
                    "Sort by these fields, comma-separated (prefix - for descending). "
                    f"Default: {','.join(view.ordering)}. Other fields are refused with a 400."
                ),
                "schema": {"type": "array", "items": {"type": "string", "enum": choices}},
                "style": "form",
                "explode": False,
            }
        ]


class SearchFilter(filters.SearchFilter):
    """`?search=acme`: case-insensitive match in the view's `search_fields` (at most 200 characters)."""

    def get_search_terms(self, request):
        value = request.query_params.get(self.search_param, "")
        if len(value) > MAX_SEARCH_LENGTH:
            raise ValidationError({self.search_param: [_("At most %(max)s characters.") % {"max": MAX_SEARCH_LENGTH}]})
        return super().get_search_terms(request)

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.search_param,
                "required": False,
                "in": "query",
                "description": "Words to find (case-insensitive) in: " + ", ".join(view.search_fields) + ".",
                "schema": {"type": "string", "maxLength": MAX_SEARCH_LENGTH},
            }
        ]


class IdField(forms.IntegerField):
    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_PK)
        super().__init__(**kwargs)


@extend_schema_field(OpenApiTypes.INT64)
class IdFilter(django_filters.NumberFilter):
    """An id (of a record or a user): a whole number; any id outside the tenant simply matches nothing."""

    field_class = IdField


class UtcDateTimeField(django_filters.fields.IsoDateTimeField):
    """An ISO 8601 date-time, normalised to UTC (PostgreSQL refuses offsets beyond ±15:59)."""

    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return value
        try:
            return value.astimezone(UTC)
        except (OverflowError, ValueError) as error:
            raise forms.ValidationError(_("This date-time is out of range."), code="overflow") from error


@extend_schema_field(OpenApiTypes.DATETIME)
class DateTimeFilter(django_filters.IsoDateTimeFilter):
    """`?created_after=2026-01-31T12:00:00Z` (ISO 8601; without an offset: UTC)."""

    field_class = UtcDateTimeField


class ApiFilterSet(django_filters.FilterSet):
    """FilterSet of an API list; django-filter's errors become 400s with the field named.

    django-filter builds a new form class, with a form field per filter, on every
    request. An API filter's field never depends on the request (no model-choice
    filters with per-request querysets), so the class is built once per FilterSet
    class; forms copy their fields per instance, as for any Django form class.
    """

    def get_form_class(self):
        cls = type(self)
        if "_form_class" not in cls.__dict__:
            if any(isinstance(f, django_filters.filters.QuerySetRequestMixin) for f in self.filters.values()):
                return super().get_form_class()
            cls._form_class = super().get_form_class()
        return cls._form_class


class FilterBackend(DjangoFilterBackend):
    """django-filter's backend; a list asked for with none of its filters skips building the FilterSet.

    django-filter builds a form class and validates it on every request (about a
    millisecond); with no filter parameter present every filter would be empty
    and leave the rows as they are, so the result is the same.
    """

    def filter_queryset(self, request, queryset, view):
        filterset_class = getattr(view, "filterset_class", None)
        if filterset_class is not None and request.query_params.keys().isdisjoint(filterset_class.base_filters):
            return queryset
        return super().filter_queryset(request, queryset, view)


class TenantScopedFilterExtension(DjangoFilterExtension):
    """drf-spectacular's django-filter support, without touching the tenant-scoped default manager.

    The stock extension calls `Model._default_manager.none()`, which raises when
    no tenant is active (as when the schema is generated); the base manager does not.
    """

    target_class = "crm.api.filters.FilterBackend"
    match_subclasses = True
    priority = 1

    def get_schema_operation_parameters(self, auto_schema, *args, **kwargs):
        model = get_view_model(auto_schema.view)
        if not model:
            return []
        filterset_class = self.target.get_filterset_class(auto_schema.view, model._base_manager.none())
        if not filterset_class:
            return []
        result = []
        with add_trace_message(filterset_class):
            for field_name, filter_field in filterset_class.base_filters.items():
                result += self.resolve_filter_field(auto_schema, model, filterset_class, field_name, filter_field)
        return result
