from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import partial
from urllib.parse import quote

from django import template
from django.urls import reverse
from django.utils import formats
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe

from crm.tenancy.members import display_name

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


# -- badges and names shown on many rows: one Python call each instead of an {% include %} --------------
#
# These are the only way these bits are rendered (lists, detail pages, the timeline), so a badge
# looks the same everywhere.


_CHOICE_LABELS: dict = {}  # (model, field name) -> {value: label}


def _label(record, field_name):
    """`record.get_<field>_display()` without rebuilding the field's choices dict on every call."""
    labels = _CHOICE_LABELS.get((type(record), field_name))
    if labels is None:
        labels = dict(type(record)._meta.get_field(field_name).flatchoices)
        _CHOICE_LABELS[(type(record), field_name)] = labels
    value = getattr(record, field_name)
    return str(labels.get(value, value))


TIER_CLASSES = {"A": "text-bg-primary", "B": "bg-primary-subtle text-primary-emphasis"}
STATUS_CLASSES = {"active": "text-bg-success", "lead": "bg-info-subtle text-info-emphasis"}
TICKET_STATUS_CLASSES = {
    "new": "text-bg-info",
    "open": "text-bg-primary",
    "pending": "text-bg-warning",
    "resolved": "text-bg-success",
}
TICKET_PRIORITY_CLASSES = {
    "urgent": "text-bg-danger",
    "high": "text-bg-warning",
    "normal": "bg-secondary-subtle text-secondary-emphasis",
}


@register.simple_tag
def tier_badge(customer):
    """`{% tier_badge customer %}`: the customer's tier as a badge."""
    css = TIER_CLASSES.get(customer.tier, "bg-body-secondary text-body-secondary")
    return format_html('<span class="badge {}" data-testid="tier">{}</span>', css, _label(customer, "tier"))


@register.simple_tag
def status_badge(customer):
    """`{% status_badge customer %}`: the customer's status as a badge."""
    css = STATUS_CLASSES.get(customer.status, "bg-secondary-subtle text-secondary-emphasis")
    return format_html('<span class="badge {}" data-testid="status">{}</span>', css, _label(customer, "status"))


def _ticket_badge(ticket, field: str, classes: dict, default_css: str):
    value = getattr(ticket, field)
    return format_html(
        '<span class="badge {}" data-testid="ticket-{}-badge" data-{}="{}">{}</span>',
        classes.get(value, default_css),
        field,
        field,
        value,
        _label(ticket, field),
    )


@register.simple_tag
def ticket_status_badge(ticket):
    """`{% ticket_status_badge ticket %}`: the ticket's status as a badge."""
    return _ticket_badge(ticket, "status", TICKET_STATUS_CLASSES, "text-bg-secondary")


@register.simple_tag
def ticket_priority_badge(ticket):
    """`{% ticket_priority_badge ticket %}`: the ticket's priority as a badge."""
    return _ticket_badge(ticket, "priority", TICKET_PRIORITY_CLASSES, "bg-body-tertiary text-body-secondary border")


@register.simple_tag
def member_name(user):
    """`{% member_name user %}`: a member's display name, or a dash when there is none."""
    if not user:
        return format_html('<span class="text-body-secondary">{}</span>', "—")
    return conditional_escape(display_name(user))


@register.simple_tag(takes_context=True)
def tag_links(context, tags, show_empty=False):
    """`{% tag_links customer.tags %}`: each tag as a pill linking to the customers with that tag."""
    return tag_pills(tags, cached_reverse(context, "customers:list") if tags else "", show_empty=show_empty)


def tag_pills(tags, list_url: str, show_empty=False, pill=None):
    """The HTML of `tag_links`, for code that has the customer list's URL at hand.

    `pill`: a function tag -> the tag's pill, for a caller that makes each tag's pill once.
    """
    if not tags:
        return format_html('<span class="text-body-secondary">{}</span>', "—") if show_empty else ""
    return mark_safe("".join((pill or partial(tag_pill, list_url=list_url))(tag) for tag in tags))


def tag_pill(tag, list_url: str):
    return format_html(
        '<a class="badge rounded-pill bg-primary-subtle text-primary-emphasis text-decoration-none fw-normal me-1"'
        ' href="{}?tag={}" data-testid="tag">{}</a>',
        list_url,
        quote(str(tag)),
        tag,
    )


# -- URLs of rows: reversed once per page, not once per row ---------------------------------------------

_PK_PLACEHOLDER = 918273645546372819


def cached_reverse(context, name):
    """reverse(name), once per rendering of a page."""
    cache = context.render_context.setdefault("crm_reversed", {})
    url = cache.get(name)
    if url is None:
        url = cache[name] = reverse(name)
    return url


def pk_url(name):
    """A function pk -> reverse(name, args=[pk]) that reverses once: the URLs of a page's rows.

    For a URL whose only argument is an `<int:pk>`, it is reversed with a placeholder and
    each row's pk substituted into it; anything else goes through reverse().
    """
    parts = reverse(name, args=[_PK_PLACEHOLDER]).split(str(_PK_PLACEHOLDER))
    if len(parts) != 2:
        return lambda pk: reverse(name, args=[pk])
    prefix, suffix = parts
    return lambda pk: f"{prefix}{pk}{suffix}" if isinstance(pk, int) else reverse(name, args=[pk])


@register.simple_tag(takes_context=True)
def row_url(context, name, pk):
    """`{% row_url 'customers:edit' customer.pk %}`: the same as `{% url 'customers:edit' customer.pk %}`,
    reversed once per page (see pk_url)."""
    cache = context.render_context.setdefault("crm_row_urls", {})
    url = cache.get(name)
    if url is None:
        url = cache[name] = pk_url(name)
    return url(pk)


@register.filter(name="display_name")
def display_name_filter(user) -> str:
    """`{{ user|display_name }}`: full name, else username (crm.tenancy.members.display_name)."""
    return display_name(user)
