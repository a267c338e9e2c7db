"""Delete, undo and history wired into the record pages, and the shared UI around them.

The generic cases (Delete on the detail page for admins and not viewers, confirm,
undo, deleted records are 404) run for every record type in tests/contracts.py;
here: bulk delete from the lists, the History section, the cases that depend on a
role's object-level rights, the `money` filter, the navigation and static assets.
"""

import re
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.template import Context, Template, TemplateDoesNotExist
from django.template.loader import get_template
from django.urls import reverse
from django.utils import translation

from tests.conftest import login
from tests.factories import RECORD_TYPES

DETAIL_URLS = {
    "customer": "customers:detail",
    "contact": "customers:contact_detail",
    "interaction": "customers:interaction_detail",
    "ticket": "tickets:detail",
    "opportunity": "sales:detail",
    "task": "tasks:detail",
}
LIST_URLS = {
    "customer": "customers:list",
    "contact": "customers:contact_list",
    "interaction": "customers:interaction_list",
    "ticket": "tickets:list",
    "opportunity": "sales:list",
    "task": "tasks:list",
}
BULK_LISTS = ["customer", "ticket", "opportunity"]  # the lists with row selection
# Record types with pages of their own (an attachment is listed and deleted on its record's page:
# tests/attachments/test_attachment_pages.py).
PAGED_TYPES = [name for name in RECORD_TYPES if name in DETAIL_URLS]


def page(response) -> str:
    return response.content.decode()


def alive(record) -> bool:
    return type(record).all_objects.filter(pk=record.pk, deleted_at__isnull=True).exists()


def in_bin(record) -> bool:
    return type(record).all_objects.filter(pk=record.pk, deleted_at__isnull=False).exists()


def row_checkbox(html, pk) -> str:
    """The <input name="ids"> of one row ("" when the row has none)."""
    match = re.search(rf'<input[^>]*name="ids" value="{pk}"[^>]*>', html)
    return match.group(0) if match else ""


@pytest.fixture
def admin(admin_user):
    return login(admin_user)


# -- the detail pages -------------------------------------------------------------------


@pytest.mark.parametrize("record_type", PAGED_TYPES)
def test_detail_page_has_delete_and_a_lazy_history_section(record_type, records, admin):
    record = records.any(record_type)
    html = page(admin.get(reverse(DETAIL_URLS[record_type], args=[record.pk])))
    delete = (
        f"{reverse('bin:delete', args=[record_type])}?ids={record.pk}&amp;next={quote(reverse(LIST_URLS[record_type]))}"
    )
    assert f'href="{delete}"' in html
    assert html.count('data-testid="delete-button"') == 1
    # History: loaded by htmx when it scrolls into view, with a plain link as fallback.
    history = reverse("history:record", args=[record_type, record.pk])
    assert 'data-testid="history-section"' in html
    assert f'hx-get="{history}" hx-trigger="intersect once"' in html
    response = admin.get(history, headers={"HX-Request": "true"})
    assert response.status_code == 200 and 'data-testid="history-versions"' in page(response)


@pytest.mark.parametrize("record_type", PAGED_TYPES)
def test_a_manager_may_delete_from_every_detail_page(record_type, records, member_client):
    record = records.any(record_type)
    html = page(member_client("manager").get(reverse(DETAIL_URLS[record_type], args=[record.pk])))
    assert 'data-testid="delete-button"' in html


def test_a_rep_sees_delete_only_on_their_own_customers(tenant, records, member_client):
    rep = member_client("rep")
    own = records.customer(owner=rep.user)
    someone_elses = records.customer()
    assert 'data-testid="delete-button"' in page(rep.get(reverse("customers:detail", args=[own.pk])))
    assert rep.get(reverse("customers:detail", args=[someone_elses.pk])).status_code == 404


def test_support_sees_delete_only_on_tickets_assigned_to_them(records, member_client):
    support = member_client("support")
    theirs = records.ticket(assignee=support.user)
    other = records.ticket()
    assert 'data-testid="delete-button"' in page(support.get(reverse("tickets:detail", args=[theirs.pk])))
    html = page(support.get(reverse("tickets:detail", args=[other.pk])))
    assert 'data-testid="ticket-subject"' in html and 'data-testid="delete-button"' not in html


def test_delete_from_the_detail_page_ends_on_the_list_with_undo(records, admin):
    """The whole flow as a browser follows it: button -> confirmation -> confirm -> list -> undo."""
    customer = records.customer(name="Doomed Inc")
    records.contact(customer)
    html = page(admin.get(reverse("customers:detail", args=[customer.pk])))
    href = re.search(r'href="([^"]+)" data-testid="delete-button"', html).group(1).replace("&amp;", "&")
    confirmation = page(admin.get(href))
    assert "1 customer, 1 contact will be moved to the recycle bin." in confirmation
    form = re.search(r'<form method="post" action="([^"]+)"[^>]*>(?:(?!</form>).)*name="confirm"', confirmation, re.S)
    form = form.group(1)
    fields = dict(re.findall(r'<input type="hidden" name="(ids|confirm|next)" value="([^"]*)"', confirmation))
    assert fields == {"ids": str(customer.pk), "confirm": "1", "next": reverse("customers:list")}
    response = admin.post(form, fields, follow=True)
    assert response.redirect_chain[-1][0] == reverse("customers:list")
    listing = page(response)
    assert "Moved to the recycle bin: 1 customer, 1 contact." in listing and "Doomed Inc" not in listing
    undo = re.search(r'<form method="post" action="([^"]+)"[^>]*data-testid="undo-form"', listing).group(1)
    response = admin.post(undo, {"next": reverse("customers:list")}, follow=True)
    assert "Undone: 1 customer, 1 contact restored." in page(response) and "Doomed Inc" in page(response)
    assert alive(customer)


# -- bulk delete from the lists ---------------------------------------------------------


@pytest.mark.parametrize("record_type", BULK_LISTS)
def test_list_bulk_bar_posts_the_selection_to_the_confirmation(record_type, records, admin):
    first, second = records.any(record_type), records.any(record_type)
    list_url = reverse(LIST_URLS[record_type])
    html = page(admin.get(list_url))
    delete_url = reverse("bin:delete", args=[record_type])
    button = re.search(r'<button[^>]*data-testid="bulk-delete"[^>]*>', html).group(0)
    form_action = re.search(r'<form method="post" action="([^"]+)" data-testid="bulk-form">', html).group(1)
    formaction = re.search(r'formaction="([^"]+)"', button)
    assert (formaction.group(1) if formaction else form_action) == delete_url
    assert 'data-requires-selection="ids"' in button
    assert 'data-testid="select-all"' in html
    assert row_checkbox(html, first.pk) and "disabled" not in row_checkbox(html, first.pk)
    assert f'<input type="hidden" name="next" value="{list_url}">' in html

    # The bulk form without confirm: the confirmation, keeping where to go back to.
    response = admin.post(delete_url, {"ids": [first.pk, second.pk], "next": list_url})
    assert response.status_code == 200
    confirmation = page(response)
    assert str(first) in confirmation and str(second) in confirmation
    assert f'value="{first.pk},{second.pk}"' in confirmation
    assert f'name="next" value="{list_url}"' in confirmation
    assert alive(first) and alive(second)

    response = admin.post(delete_url, {"ids": f"{first.pk},{second.pk}", "confirm": "1", "next": list_url})
    assert response.status_code == 302 and response.url == list_url
    assert in_bin(first) and in_bin(second)
    response = admin.get(list_url)
    assert 'data-testid="undo-button"' in page(response)
    shown = [row.pk for row in response.context["object_list"]]
    assert first.pk not in shown and second.pk not in shown


@pytest.mark.parametrize("record_type", BULK_LISTS)
def test_a_viewer_gets_no_selection_and_no_bulk_delete(record_type, records, member_client):
    record = records.any(record_type)
    html = page(member_client("viewer").get(reverse(LIST_URLS[record_type])))
    assert str(record) in html
    assert 'data-testid="bulk-delete"' not in html
    assert not row_checkbox(html, record.pk)


def test_support_can_select_only_the_tickets_they_may_delete(records, member_client):
    support = member_client("support")
    theirs, other = records.ticket(assignee=support.user), records.ticket()
    html = page(support.get(reverse("tickets:list")))
    assert 'data-testid="bulk-delete"' in html
    assert "disabled" not in row_checkbox(html, theirs.pk)
    assert "disabled" in row_checkbox(html, other.pk)


def test_a_rep_can_select_only_opportunities_of_their_customers(tenant, records, member_client):
    rep = member_client("rep")
    mine = records.opportunity(customer=records.customer(owner=rep.user))
    records.opportunity()  # another owner's customer: not even listed
    response = rep.get(reverse("sales:list"))
    assert [row.pk for row in response.context["object_list"]] == [mine.pk]
    assert "disabled" not in row_checkbox(page(response), mine.pk)


def test_the_customer_bulk_bar_keeps_its_other_actions(records, admin):
    records.customer()
    html = page(admin.get(reverse("customers:list")))
    assert f'formaction="{reverse("bin:delete", args=["customer"])}"' in html
    assert f'action="{reverse("customers:bulk")}" data-testid="bulk-form"' in html
    assert 'data-testid="bulk-add-tag"' in html and 'data-testid="bulk-assign-owner"' in html


# -- money ------------------------------------------------------------------------------


def render(source, **context) -> str:
    return Template("{% load crm %}" + source).render(Context(context))


def test_money_formats_with_grouping_two_decimals_and_the_currency():
    with translation.override("en"):
        assert render("{{ a|money:c }}", a=Decimal("1234567.8"), c="EUR") == (
            '<span class="text-nowrap" data-testid="money">EUR&nbsp;1,234,567.80</span>'
        )
        assert "USD&nbsp;0.01</span>" in render("{{ a|money:'USD' }}", a=Decimal("0.005"))  # half up
        assert "CNY&nbsp;-12.35</span>" in render("{{ a|money:'CNY' }}", a=-12.345)
        assert "&nbsp;1,000.00</span>" in render("{{ a|money:'USD' }}", a=1000)
        assert render("{{ a|money }}", a="42") == '<span class="text-nowrap" data-testid="money">42.00</span>'
        assert render("{{ a|money:'USD' }}", a=None) == "—"
        assert render("{{ a|money:'USD' }}", a="not a number") == "not a number"
        assert "&lt;b&gt;" in render("{{ a|money:c }}", a=1, c="<b>")


def test_money_follows_the_active_locale():
    with translation.override("zh-hans"):
        # Django's zh_Hans formats group by four without a separator; crm/formats/zh_Hans groups
        # by three with commas, as Chinese invoices write amounts.
        assert "USD&nbsp;1,234,567.80</span>" in render("{{ a|money:'USD' }}", a=Decimal("1234567.8"))


def test_the_money_include_is_gone():
    with pytest.raises(TemplateDoesNotExist):
        get_template("sales/_money.html")
    templates = Path(settings.BASE_DIR) / "templates"
    users = [path for path in templates.rglob("*.html") if "_money.html" in path.read_text()]
    assert users == []


def test_money_on_the_opportunity_pages(records, admin):
    opportunity = records.opportunity(amount=Decimal("9876.5"), currency="USD")
    for url in (
        reverse("sales:list"),
        reverse("sales:board"),
        reverse("sales:detail", args=[opportunity.pk]),
        reverse("customers:detail", args=[opportunity.customer_id]),
    ):
        assert "USD&nbsp;9,876.50" in page(admin.get(url)), url


# -- navigation and static assets -------------------------------------------------------


def active_nav(html) -> list[str]:
    return re.findall(r'class="nav-link active" href="[^"]*" aria-current="page" data-testid="(nav-[a-z-]+)"', html)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (lambda o: reverse("dashboard"), ["nav-dashboard"]),
        (lambda o: reverse("sales:board"), ["nav-pipeline"]),
        (lambda o: reverse("sales:list"), ["nav-opportunities"]),
        (lambda o: reverse("sales:detail", args=[o.pk]), ["nav-opportunities"]),
        (lambda o: reverse("customers:contact_list"), ["nav-customers"]),
        (lambda o: reverse("customers:detail", args=[o.customer_id]), ["nav-customers"]),
        (lambda o: reverse("tickets:list"), ["nav-tickets"]),
        (lambda o: reverse("bin:list"), ["nav-recycle-bin"]),
        (lambda o: reverse("audit:list"), []),
    ],
)
def test_navigation_highlights_exactly_the_current_section(url, expected, records, admin):
    opportunity = records.opportunity()
    assert active_nav(page(admin.get(url(opportunity)))) == expected


def test_pages_link_the_favicon_and_the_error_handling(admin):
    html = page(admin.get(reverse("dashboard")))
    assert '<link rel="icon" href="/static/crm/favicon.svg" type="image/svg+xml">' in html
    assert 'id="htmx-error-template"' in html and 'id="htmx-error-config"' in html
    assert f'data-login-url="{reverse("login")}"' in html
    svg = (Path(settings.BASE_DIR) / "static" / "crm" / "favicon.svg").read_text()
    assert svg.startswith("<svg") and 'xmlns="http://www.w3.org/2000/svg"' in svg


def test_the_kanban_column_width_lives_in_the_stylesheet(records, admin):
    records.opportunity()
    html = page(admin.get(reverse("sales:board")))
    assert "min-width: 12.5rem" not in html
    assert 'class="kanban-column' in html
    css = (Path(settings.BASE_DIR) / "static" / "crm" / "crm.css").read_text()
    assert re.search(r"\.kanban-column \{[^}]*min-width: 12\.5rem", css)


def test_another_tenants_record_cannot_be_deleted(records, other_records, admin):
    theirs = other_records.customer()
    assert admin.get(reverse("bin:delete", args=["customer"]), {"ids": theirs.pk}).status_code == 404
    assert alive(theirs)


def test_bulk_delete_of_a_record_one_may_not_delete_is_refused(records, member_client):
    support = member_client("support")
    other = records.ticket()
    response = support.post(reverse("bin:delete", args=["ticket"]), {"ids": [other.pk], "confirm": "1"})
    assert response.status_code in (403, 404)
    assert alive(other)


def test_a_manager_can_bulk_delete_customers_too(records, member_client):
    manager = member_client("manager")
    customer = records.customer()
    html = page(manager.get(reverse("customers:list")))
    assert 'data-testid="bulk-delete"' in html and "disabled" not in row_checkbox(html, customer.pk)
