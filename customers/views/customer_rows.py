"""The rows of the customer list, as HTML made in Python once per page.

Written by hand rather than as template markup because of what a row costs
the template engine: about forty nodes (a dozen variables, tags, filters and a
translation each), for every row, cost the page more than all of its queries
together. Here a row is one `str.format` of escaped values; everything that
depends on one value only (a badge, an owner's name, a day, a tag's pill, a
translated label) is made once per page for each value, by the same functions
the template tags use (crm.web.templatetags.crm). Plain values are escaped with
`html.escape`, which is what Django's `escape()` does: format_html() would
escape the same way, but through lazy-text checks costing about a microsecond
for each of a row's two dozen values. tests/customers/test_list_rendering.py
holds the rows equal to the template markup they replace.
"""

from html import escape

from django.template.defaultfilters import date
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.timezone import get_current_timezone
from django.utils.translation import gettext as _

from crm.web.templatetags.crm import member_name, pk_url, status_badge, tag_pill, tag_pills, tier_badge
from customers.models import Customer

# Indented as it sits in customers/customer_list.html's <tbody>.
ROW = """
          <tr data-testid="customer-row" data-pk="{pk}">
            {select}
            <td>
              <a class="fw-semibold text-decoration-none" href="{url}">{name}</a>
              {kind}{shared}
              {email}
            </td>
            <td class="d-none d-md-table-cell text-nowrap">{phone}</td>
            <td>{tier}</td>
            <td>{status}</td>
            <td class="text-nowrap">{owner}</td>
            <td class="d-none d-lg-table-cell">{tags}</td>
            <td class="d-none d-lg-table-cell text-nowrap small">{created}</td>
            <td class="text-end pe-3">{edit}</td>
          </tr>
          """
SELECT = (
    '<td class="ps-3"><input type="checkbox" class="form-check-input" name="ids" value="{pk}" aria-label="{label}"'
    '{disabled} data-testid="row-select"></td>'
)
EDIT = '<a class="btn btn-sm btn-outline-secondary" href="{url}">{label}</a>'
PERSON = '<span class="badge bg-body-secondary text-body-secondary fw-normal">{}</span>'
EMAIL = '<div class="small text-body-secondary">{}</div>'
SHARED = '<span class="badge bg-info-subtle text-info-emphasis fw-normal" data-testid="shared-with-me">{}</span>'


def customer_rows(customers, changeable_ids, *, selectable: bool) -> list:
    """One safe HTML string per customer: the list's <tr>, with a checkbox column when `selectable`."""
    detail_url, edit_url = pk_url("customers:detail"), pk_url("customers:edit")
    list_url = reverse("customers:list")
    select_label, edit_label = _("Select %(name)s"), escape(_("Edit"))
    person_kind, person = Customer.Kind.PERSON, format_html(PERSON, Customer.Kind.PERSON.label)
    shared = format_html(SHARED, _("Shared with me"))
    zone = get_current_timezone()  # what `localtime()` and the date filter use, looked up once
    tiers, statuses, owners, days, pills = {}, {}, {}, {}, {}

    def pill(tag):
        if (html := pills.get(tag)) is None:
            html = pills[tag] = tag_pill(tag, list_url)
        return html

    rows = []
    for customer in customers:
        pk, name, changeable = customer.pk, escape(customer.name), customer.pk in changeable_ids
        if (tier := tiers.get(customer.tier)) is None:
            tier = tiers[customer.tier] = tier_badge(customer)
        if (status := statuses.get(customer.status)) is None:
            status = statuses[customer.status] = status_badge(customer)
        if (owner := owners.get(customer.owner_id)) is None:
            owner = owners[customer.owner_id] = member_name(customer.owner)
        day = customer.created_at.astimezone(zone).date()  # SHORT_DATE_FORMAT shows the day only
        if (created := days.get(day)) is None:
            created = days[day] = escape(date(day, "SHORT_DATE_FORMAT"))
        select = ""
        if selectable:
            label = select_label % {"name": name}  # as {% blocktranslate %} makes it: the name escaped
            select = SELECT.format(pk=pk, label=label, disabled="" if changeable else " disabled")
        row = ROW.format(
            pk=pk,
            select=select,
            url=escape(detail_url(pk)),
            name=name,
            kind=person if customer.kind == person_kind else "",
            shared=shared if getattr(customer, "shared_with_me", False) else "",
            email=EMAIL.format(escape(customer.email)) if customer.email else "",
            phone=escape(customer.phone or "—"),
            tier=tier,
            status=status,
            owner=owner,
            tags=tag_pills(customer.tags, list_url, pill=pill),
            created=created,
            edit=EDIT.format(url=escape(edit_url(pk)), label=edit_label) if changeable else "",
        )
        rows.append(mark_safe(row))  # every part above is escaped or made safe by format_html
    return rows
