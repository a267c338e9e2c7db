from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import template
from django.utils import formats
from django.utils.html import format_html

register = template.Library()

CENTS = Decimal("0.01")


@register.simple_tag(takes_context=True)
def sort_link(context, key, label):
    """A column header that sorts by `key`, toggling the direction on each click."""
    request = context["request"]
    current = context.get("current_sort", "")
    query = request.GET.copy()
    query.pop("page", None)
    query["sort"] = f"-{key}" if current == key else key
    arrow = " ▲" if current == key else " ▼" if current == f"-{key}" else ""
    return format_html(
        '<a href="?{}" class="link-body-emphasis text-decoration-none">{}{}</a>', query.urlencode(), label, arrow
    )


@register.simple_tag(takes_context=True)
def query_with(context, **values):
    """The current query string with some parameters replaced."""
    query = context["request"].GET.copy()
    for key, value in values.items():
        query[key] = value
    return query.urlencode()


@register.filter
def money(amount, currency=""):
    """`{{ amount|money:currency }}`: "USD 1,234.50" with the active locale's separators.

    Two decimals (rounded half up), thousands grouped, the currency code first and
    kept on the same line as the number. No amount renders as "—".
    """
    if amount is None or amount == "":
        return "—"
    try:
        value = amount if isinstance(amount, Decimal) else Decimal(str(amount))
        value = value.quantize(CENTS, rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError, TypeError):
        return amount
    number = formats.number_format(value, decimal_pos=2, force_grouping=True)
    if not currency:
        return format_html('<span class="text-nowrap" data-testid="money">{}</span>', number)
    return format_html('<span class="text-nowrap" data-testid="money">{}&nbsp;{}</span>', currency, number)
