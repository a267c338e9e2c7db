"""Page-number pagination with a hard cap on the page size.

`page_size` above MAX_PAGE_SIZE (or not a whole number >= 1) is refused with a
400 rather than silently clamped: a client asking for 10,000 rows should learn
it gets 200, not assume it got everything. The schema states the bounds.
"""

import re

from django.utils.translation import gettext as _
from rest_framework import pagination
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from crm.pagination import COUNT_CAP, CappedCountPaginator

DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 200
WHOLE_NUMBER = re.compile(r"[0-9]{1,18}")  # ASCII digits; anything longer is no page anyone has


def _whole_number(name: str, raw: str, *, maximum: int | None = None) -> int:
    text = raw.strip()
    if not WHOLE_NUMBER.fullmatch(text) or int(text) < 1 or (maximum and int(text) > maximum):
        message = (
            _("Must be a whole number from 1 to %(max)s.") % {"max": maximum}
            if maximum
            else _("Must be a whole number of at least 1.")
        )
        raise ValidationError({name: [message]})
    return int(text)


class PageNumberPagination(pagination.PageNumberPagination):
    django_paginator_class = CappedCountPaginator
    page_size = DEFAULT_PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    last_page_strings = ()

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        return _whole_number(self.page_size_query_param, raw, maximum=self.max_page_size)

    def get_page_number(self, request, paginator):
        raw = request.query_params.get(self.page_query_param)
        return 1 if raw is None else _whole_number(self.page_query_param, raw)

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.page_query_param,
                "required": False,
                "in": "query",
                "description": "A page number (from 1). A page past the last one is a 404.",
                "schema": {"type": "integer", "minimum": 1},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": (
                    f"Results per page, {DEFAULT_PAGE_SIZE} by default, at most {MAX_PAGE_SIZE}. "
                    "A larger or invalid value is refused with a 400 (never silently clamped)."
                ),
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE, "default": DEFAULT_PAGE_SIZE},
            },
        ]

    def get_paginated_response(self, data):
        paginator = self.page.paginator
        return Response(
            {
                "count": paginator.shown_count,
                "count_capped": paginator.capped,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        response = super().get_paginated_response_schema(schema)
        response["properties"]["count"]["description"] = f"Matching rows, counted up to {COUNT_CAP:,}."
        response["properties"]["count_capped"] = {
            "type": "boolean",
            "description": f"True when more than {COUNT_CAP:,} rows match (narrow the list with filters).",
        }
        response["required"] = ["count", "count_capped", "next", "previous", "results"]
        return response
