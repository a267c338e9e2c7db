"""One search across record types, each through its own list's restricting read and search filter.

For every type the user's role may view, the rows are
`Model.objects.for_user(user, "view")` narrowed by the `q` filter of that type's list
(customers.filters, sales.filters, activities.filters): the same rows the list shows
for `?q=`, so a rep finds only what they can see, and the search is not written twice.
One query per type, PER_TYPE rows each (one more is read to know whether "see all"
has more to show); nothing is counted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from activities.filters import search_tasks
from activities.models import Task
from crm.tenancy.querysets import membership_for
from crm.tenancy.roles import role_may
from customers.filters import search_contacts, search_customers, search_tickets
from customers.models import Contact, Customer, Ticket
from sales.filters import search_deals
from sales.models import Opportunity

PER_TYPE = 5
MAX_LENGTH = 100


@dataclass(frozen=True)
class SearchType:
    model: type
    search: Callable  # the list's `q` filter method: (queryset, name, value) -> queryset
    list_url: str  # the list page, which `?q=` filters the same way
    detail_url: str
    label: str  # the field that names a row
    details: tuple[str, ...] = ()  # what else a result shows (email, phone, customer)

    @property
    def name(self) -> str:
        return self.model._meta.model_name


SEARCH_TYPES = (
    SearchType(Customer, search_customers, "customers:list", "customers:detail", "name", ("email", "phone")),
    SearchType(
        Contact,
        search_contacts,
        "customers:contact_list",
        "customers:contact_detail",
        "name",
        ("customer__name", "email", "phone"),
    ),
    SearchType(Opportunity, search_deals, "sales:list", "sales:detail", "name", ("customer__name",)),
    SearchType(Ticket, search_tickets, "tickets:list", "tickets:detail", "subject", ("customer__name",)),
    SearchType(Task, search_tasks, "tasks:list", "tasks:detail", "title", ()),
)


def clean_query(value) -> str:
    """The search text, stripped; ValidationError when empty, too long or holding a NUL byte."""
    text = (value or "").strip()
    if not text:
        raise ValidationError(_("Type something to search for."), code="required")
    if len(text) > MAX_LENGTH:
        raise ValidationError(_("Search for at most %(limit)d characters.") % {"limit": MAX_LENGTH}, code="max_length")
    if "\x00" in text:
        raise ValidationError(_("The search text holds a character that is not allowed."), code="invalid")
    return text


def searchable_types(user) -> list[SearchType]:
    """The types whose records the user's role may view at all."""
    membership = membership_for(user)
    if membership is None:
        return []
    return [entry for entry in SEARCH_TYPES if role_may(membership.role, "view", entry.name)]


def matching(entry: SearchType, user, q: str):
    """The rows of `entry` the user's list would show for `?q=`, in the list's default order:
    the list's restricting read, narrowed by the list's own `q` filter method."""
    visible = entry.model.objects.for_user(user, "view")
    return entry.search(visible, "q", q).order_by(*entry.model._meta.ordering)


def search(user, q: str, per_type: int = PER_TYPE) -> list[dict]:
    """[{type, title, results: [{id, label, detail, url, api_url}], more, see_all}] for each type
    the user may view, in a fixed order (types without results included, with no rows)."""
    groups = []
    for entry in searchable_types(user):
        fields = ("pk", entry.label, *entry.details)
        rows = list(matching(entry, user, q).values_list(*fields)[: per_type + 1])
        groups.append(
            {
                "type": entry.name,
                "title": str(entry.model._meta.verbose_name_plural),
                "results": [
                    {
                        "id": row[0],
                        "label": row[1],
                        "detail": " · ".join(str(value) for value in row[2:] if value),
                        "url": reverse(entry.detail_url, args=[row[0]]),
                        "api_url": reverse(f"api:{entry.name}-detail", args=[row[0]]),
                    }
                    for row in rows[:per_type]
                ],
                "more": len(rows) > per_type,
                "see_all": f"{reverse(entry.list_url)}?{urlencode({'q': q})}",
            }
        )
    return groups
