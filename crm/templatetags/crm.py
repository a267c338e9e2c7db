from django import template
from django.utils.html import format_html

register = template.Library()


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
