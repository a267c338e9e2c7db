"""Page-number pagination that does not count unless asked.

A page is fetched with one row more than it shows: that row says whether there
is a `next` page, so a list costs one query, however many rows match. Counting
is a second query that can cost more than the page itself (up to COUNT_CAP rows
on a million-row tenant, all the matches of a search), so `count` is null
unless the client asks for it with `count=true`; it is free on the last page.

`page_size` above MAX_PAGE_SIZE (or not a whole number >= 1) is refused with a
400 rather than silently clamped: a client asking for 10,000 rows should learn
it gets 200, not assume it got everything. The schema states the bounds.
"""

import re

from django.utils.translation import gettext as _
from rest_framework import pagination
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from crm.web import pagination as counting
from crm.web.pagination import COUNT_CAP

DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 200
WHOLE_NUMBER = re.compile(r"[0-9]{1,18}")  # ASCII digits; anything longer is no page anyone has
BOOLEAN = {"true": True, "false": False}


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


class PageNumberPagination(pagination.BasePagination):
    page_query_param = "page"
    page_size_query_param = "page_size"
    count_query_param = "count"
    page_size = DEFAULT_PAGE_SIZE
    max_page_size = MAX_PAGE_SIZE

    def query_parameters(self) -> set[str]:
        return {self.page_query_param, self.page_size_query_param, self.count_query_param}

    # -- reading the request ------------------------------------------------------------
    def get_page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        return _whole_number(self.page_size_query_param, raw, maximum=self.max_page_size)

    def get_page_number(self, request) -> int:
        raw = request.query_params.get(self.page_query_param)
        return 1 if raw is None else _whole_number(self.page_query_param, raw)

    def wants_count(self, request) -> bool:
        raw = request.query_params.get(self.count_query_param, "false").strip().lower()
        if raw not in BOOLEAN:
            raise ValidationError({self.count_query_param: [_("Must be true or false.")]})
        return BOOLEAN[raw]

    # -- the page ----------------------------------------------------------------------
    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        size, self.number = self.get_page_size(request), self.get_page_number(request)
        wants_count = self.wants_count(request)
        offset = (self.number - 1) * size
        rows = list(queryset[offset : offset + size + 1])
        self.has_next = len(rows) > size
        rows = rows[:size]
        if self.number > 1 and not rows:
            raise NotFound(_("There is no page %(number)s.") % {"number": self.number})
        self.count = None
        if not self.has_next:
            self.count = offset + len(rows)  # the last page: known without counting
        elif wants_count:
            self.count = counting.capped_count(queryset)
        return rows

    def get_paginated_response(self, data):
        cap = counting.COUNT_CAP  # read now: tests lower it
        capped = None if self.count is None else self.count > cap
        return Response(
            {
                "count": None if self.count is None else min(self.count, cap),
                "count_capped": capped,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_next_link(self):
        if not self.has_next:
            return None
        return replace_query_param(self.request.build_absolute_uri(), self.page_query_param, self.number + 1)

    def get_previous_link(self):
        if self.number == 1:
            return None
        url = self.request.build_absolute_uri()
        if self.number == 2:
            return remove_query_param(url, self.page_query_param)
        return replace_query_param(url, self.page_query_param, self.number - 1)

    # -- schema -------------------------------------------------------------------------
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
            {
                "name": self.count_query_param,
                "required": False,
                "in": "query",
                "description": (
                    f"true: also count the matching rows (up to {COUNT_CAP:,}). Counting costs a second query, "
                    "so it is off by default; the last page always has its count."
                ),
                "schema": {"type": "boolean", "default": False},
            },
        ]

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["count", "count_capped", "next", "previous", "results"],
            "properties": {
                "count": {
                    "type": "integer",
                    "nullable": True,
                    "description": (
                        f"Matching rows, counted up to {COUNT_CAP:,}: given with count=true and on the last page, "
                        "null otherwise."
                    ),
                    "example": 123,
                },
                "count_capped": {
                    "type": "boolean",
                    "nullable": True,
                    "description": f"True when more than {COUNT_CAP:,} rows match (narrow the list with filters).",
                },
                "next": {"type": "string", "nullable": True, "format": "uri", "description": "The next page."},
                "previous": {"type": "string", "nullable": True, "format": "uri", "description": "The page before."},
                "results": schema,
            },
        }
