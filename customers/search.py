"""Searching customers and contacts: phones by their digits, tags in any case.

Both compare an expression of the column that a functional index of the customers
table holds (migration 0010), so a search stays one indexed, set-based query.
"""

import re

from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import EmptyResultSet
from django.db import models

# A search value that looks like (part of) a phone number: digits, spaces and + ( ) . / -
PHONE_LIKE = re.compile(r"[\d\s()+./-]*\d[\d\s()+./-]*")
# The index holds this very expression (with the column in place of %s).
PHONE_DIGITS_SQL = "regexp_replace(%s, '[^0-9]', '', 'g')"
LOWER_TAGS_FUNCTION = "customers_lower_tags"


class DigitsContain(models.Lookup):
    """`phone__digits="+1 206 555"`: the phone's digits contain the value's digits ("1206555").

    A value that is not phone-like (it has letters, say) matches no phone.
    """

    lookup_name = "digits"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        value = str(self.rhs).strip()
        if not PHONE_LIKE.fullmatch(value):
            raise EmptyResultSet
        lhs, params = self.process_lhs(compiler, connection)
        digits = re.sub(r"\D", "", value)
        return f"{PHONE_DIGITS_SQL % lhs} LIKE %s", [*params, f"%{digits}%"]


class PhoneDigits(models.Func):
    """A phone's digits only: "+1 (206) 555-0100" -> "12065550100"."""

    template = PHONE_DIGITS_SQL % "%(expressions)s"
    output_field = models.CharField()


class LowerTags(models.Func):
    """The tags in lower case (an IMMUTABLE SQL function, so it can be indexed)."""

    function = LOWER_TAGS_FUNCTION
    output_field = ArrayField(models.TextField())


def tagged(queryset, tag: str):
    """Rows carrying `tag`, in any case."""
    return queryset.alias(lower_tags=LowerTags("tags")).filter(lower_tags__contains=[tag.strip().lower()])
