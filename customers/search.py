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


def trigram_indexes(model_name: str, columns=(), phones=()) -> list:
    """GIN trigram indexes for a list's `q` search, tenant first, alive rows only: UPPER(column)
    for "contains, any case" (Django's icontains compares UPPER), the digits for phones."""
    from django.contrib.postgres.indexes import GinIndex, OpClass
    from django.db.models import F, Q
    from django.db.models.functions import Upper

    alive = Q(deleted_at__isnull=True)
    return [
        *(
            GinIndex(
                F("tenant"),
                OpClass(Upper(column), name="gin_trgm_ops"),
                name=f"{model_name}_{column}_trgm",
                condition=alive,
            )
            for column in columns
        ),
        *(
            GinIndex(
                F("tenant"),
                OpClass(PhoneDigits(column), name="gin_trgm_ops"),
                name=f"{model_name}_{column}_digits_trgm",
                condition=alive,
            )
            for column in phones
        ),
    ]


def trigram_index_sql(table: str, model_name: str, columns=(), phones=()) -> list[tuple[str, str]]:
    """(CREATE, DROP) of trigram_indexes(...): Django wraps "expression opclass" in parentheses,
    which PostgreSQL refuses, so migrations create them by SQL (see migration 0006)."""
    made = [(f"{model_name}_{column}_trgm", f'UPPER("{column}")') for column in columns]
    made += [(f"{model_name}_{column}_digits_trgm", PHONE_DIGITS_SQL % f'"{column}"') for column in phones]
    return [
        (
            f'CREATE INDEX "{name}" ON "{table}" USING gin ("tenant_id", {expression} gin_trgm_ops) '
            'WHERE "deleted_at" IS NULL',
            f'DROP INDEX "{name}"',
        )
        for name, expression in made
    ]


def matching_or_via_customer(queryset, own: models.Q, value: str):
    """The rows of `queryset` (a customer's children: contacts, deals, tickets) matching `own`
    or whose customer's name contains `value`.

    Written as one OR across the join (`own | Q(customer__name__icontains=value)`), every
    child of the company is joined and tested. Here each side is index-backed on its own
    and the two id sets are unioned: the child's trigram indexes for `own`; the customers'
    name index, then the children's (tenant, customer) index, for the customer's name.
    """
    from customers.models import Customer

    model = queryset.model
    customers = Customer.objects.filter(name__icontains=value).order_by().values("pk")
    via_customer = model.objects.filter(customer__in=customers).order_by().values("pk")
    ids = model.objects.filter(own).order_by().values("pk").union(via_customer)
    return queryset.filter(pk__in=ids)
