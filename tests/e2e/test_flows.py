"""The issue's browser scenarios, end to end in Chromium against the live server."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from crm.recyclebin import actions as recyclebin
from crm.tenancy.context import activate
from customers.models import Contact, Customer, Ticket
from sales.models import Opportunity
from tests.e2e.conftest import log_in, zh_translation
from tests.factories import RecordMaker, make_member

pytestmark = pytest.mark.browser


def by_testid(page, testid):
    return page.get_by_test_id(testid)


def nav(page, name):
    """Follow a link of the main navigation bar."""
    page.locator("#mainnav").get_by_role("link", name=name, exact=True).click()


def alive(model, **filters):
    """Rows not in the recycle bin, read without a tenant context (the test is not a request)."""
    return model.all_objects.filter(deleted_at__isnull=True, **filters)


# -- log in, create a customer with a contact and an opportunity ----------------------------


def test_log_in_and_create_a_customer_with_a_contact_and_an_opportunity(page, tenant, admin, snap):
    log_in(page, "erin")
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.locator("nav.navbar")).to_contain_text("erin")
    snap(page, "dashboard")

    nav(page, "Customers")
    by_testid(page, "customer-create").click()
    form = by_testid(page, "customer-form")
    form.get_by_label("Name").fill("Globex Corporation")
    form.get_by_label("Email").fill("info@globex.example")
    form.get_by_label("Phone").fill("+1 555 0199")
    form.get_by_label("Tags").fill("vip, export")
    by_testid(page, "save").click()

    customer = Customer.all_objects.get(name="Globex Corporation")
    expect(page).to_have_url(re.compile(rf"/customers/{customer.pk}/$"))
    expect(by_testid(page, "customer-header")).to_contain_text("Globex Corporation")
    expect(by_testid(page, "customer-owner")).to_contain_text("erin")

    # The contact form on the customer page (htmx swaps the contacts section).
    by_testid(page, "add-contact").locator("summary").click()
    contact_form = by_testid(page, "add-contact-form")
    contact_form.get_by_label("Name").fill("Hank Scorpio")
    contact_form.get_by_label("Title").fill("CEO")
    contact_form.get_by_role("button", name="Add contact").click()
    expect(by_testid(page, "contact-row")).to_have_count(1)
    expect(by_testid(page, "contact-row")).to_contain_text("Hank Scorpio")
    assert list(alive(Contact, customer=customer).values_list("name", flat=True)) == ["Hank Scorpio"]

    # An opportunity for it, from the pipeline's "New opportunity".
    nav(page, "Pipeline")
    by_testid(page, "create-opportunity").click()
    form = by_testid(page, "opportunity-form")
    form.get_by_label("Customer").select_option(label="Globex Corporation")
    form.get_by_label("Name").fill("Doomsday device")
    form.get_by_label("Amount").fill("25000")
    form.get_by_label("Currency").fill("usd")
    by_testid(page, "save").click()
    expect(page.locator("#messages")).to_contain_text("Doomsday device")

    opportunity = Opportunity.all_objects.get(name="Doomsday device")
    assert (opportunity.customer_id, opportunity.stage, opportunity.amount, opportunity.currency) == (
        customer.pk,
        Opportunity.Stage.LEAD,
        Decimal("25000.00"),
        "USD",
    )
    page.goto(f"/customers/{customer.pk}/")
    expect(by_testid(page, "opportunity-row")).to_contain_text("Doomsday device")
    expect(by_testid(page, "contact-row")).to_contain_text("Hank Scorpio")
    snap(page, "customer-detail")


# -- the pipeline board ------------------------------------------------------------------


def test_move_an_opportunity_on_the_board_with_the_menu_and_by_drag_and_drop(page, tenant, admin, snap):
    records = RecordMaker(tenant, admin)
    customer = records.customer(name="Initech")
    deal = records.opportunity(customer, name="TPS reports", stage=Opportunity.Stage.LEAD)
    log_in(page, "erin")
    nav(page, "Pipeline")

    def card_in(stage):
        return by_testid(page, f"board-column-{stage}").locator(f'[data-testid=opportunity-card][data-id="{deal.pk}"]')

    expect(card_in("lead")).to_be_visible()
    expect(by_testid(page, "board-column-lead").get_by_test_id("column-count")).to_have_text("1")

    # 1. The card's "Move to…" form.
    card_in("lead").get_by_test_id("card-move-select").select_option("qualified")
    card_in("lead").get_by_test_id("card-move-submit").click()
    expect(card_in("qualified")).to_be_visible()
    expect(card_in("lead")).to_have_count(0)
    expect(by_testid(page, "board-column-qualified").get_by_test_id("column-count")).to_have_text("1")
    expect(by_testid(page, "board-column-lead").get_by_test_id("column-count")).to_have_text("0")
    deal.refresh_from_db()
    assert deal.stage == Opportunity.Stage.QUALIFIED

    # 2. Drag and drop onto another column (HTML5 drag events, board.js posts the move).
    card_in("qualified").drag_to(by_testid(page, "board-column-proposal").locator("[data-dropzone]"))
    expect(card_in("proposal")).to_be_visible()
    expect(card_in("proposal")).not_to_have_attribute("aria-busy", "true")
    expect(by_testid(page, "board-column-proposal").get_by_test_id("column-count")).to_have_text("1")
    expect(by_testid(page, "board-column-qualified").get_by_test_id("column-count")).to_have_text("0")
    deal.refresh_from_db()
    assert deal.stage == Opportunity.Stage.PROPOSAL
    page.reload()
    expect(card_in("proposal")).to_be_visible()
    snap(page, "pipeline")


# -- tickets -----------------------------------------------------------------------------


def test_open_and_resolve_a_ticket(page, tenant, admin, snap):
    RecordMaker(tenant, admin).customer(name="Umbrella Corp")
    make_member(tenant, "sam", role="support")
    log_in(page, "sam")

    nav(page, "Tickets")
    by_testid(page, "create-ticket").click()
    form = by_testid(page, "ticket-form")
    form.get_by_label("Customer").select_option(label="Umbrella Corp")
    form.get_by_label("Subject").fill("Lab door will not close")
    form.get_by_label("Description").fill("Since Tuesday.")
    form.get_by_label("Priority").select_option("high")
    by_testid(page, "save").click()

    ticket = Ticket.all_objects.get(subject="Lab door will not close")
    expect(page).to_have_url(re.compile(rf"/tickets/{ticket.pk}/$"))
    expect(by_testid(page, "ticket-subject")).to_have_text("Lab door will not close")
    by_testid(page, "assign-to-me").click()
    expect(by_testid(page, "ticket-assignee")).to_contain_text("sam")

    by_testid(page, "status-open").click()
    expect(by_testid(page, "status-open")).to_be_disabled()
    by_testid(page, "status-resolved").click()
    expect(by_testid(page, "status-resolved")).to_be_disabled()
    expect(by_testid(page, "ticket-resolved-at")).to_be_visible()
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.RESOLVED
    assert ticket.resolved_at is not None
    assert ticket.assignee.username == "sam"

    nav(page, "Tickets")
    expect(page.locator(f'[data-testid=ticket-row][data-id="{ticket.pk}"]')).to_contain_text("Resolved")
    snap(page, "tickets")


# -- language -----------------------------------------------------------------------------


def test_switch_to_simplified_chinese(page, live_server, tenant, admin, snap):
    log_in(page, "erin")
    expect(page.locator("html")).to_have_attribute("lang", "en")

    with page.expect_navigation():
        by_testid(page, "language-switcher").locator("select").select_option("zh-hans")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(by_testid(page, "language-switcher").locator("select")).to_have_value("zh-hans")

    # The project's nav: strict as soon as the compiled catalogue translates "Customers".
    customers_nav = page.locator("#mainnav a.nav-link[href='/customers/']")
    translated = zh_translation("Customers")
    if translated is not None:
        assert "客户" in translated, f"zh_Hans translates 'Customers' as {translated!r}"
        expect(customers_nav).to_have_text(translated)
    snap(page, "dashboard-zh")

    # A string translated by Django itself: a form's "This field is required.".
    page.goto("/tickets/new/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    by_testid(page, "save").click()
    expect(by_testid(page, "ticket-form")).to_contain_text("该字段是必填项。")

    # The choice sticks to the user: a new browser session signs in in Chinese.
    context = page.context.browser.new_context(base_url=live_server.url, locale="en-US")
    try:
        other = context.new_page()
        log_in(other, "erin")
        expect(other.locator("html")).to_have_attribute("lang", "zh-hans")
    finally:
        context.close()


# -- reps are kept apart -------------------------------------------------------------------


def test_a_rep_cannot_see_another_reps_customer(page, tenant, snap):
    rep = make_member(tenant, "rita", role="rep")
    other_rep = make_member(tenant, "ron", role="rep")
    RecordMaker(tenant, rep).customer(name="Rita's Account")
    hidden = RecordMaker(tenant, other_rep).customer(name="Ron's Secret Account")

    log_in(page, "rita")
    nav(page, "Customers")
    table = by_testid(page, "customer-table")
    expect(table).to_contain_text("Rita's Account")
    expect(table).not_to_contain_text("Ron's Secret Account")
    expect(by_testid(page, "customer-row")).to_have_count(1)

    response = page.goto(f"/customers/{hidden.pk}/")
    assert response.status == 404
    expect(page.locator("body")).not_to_contain_text("Ron's Secret Account")
    snap(page, "not-found")

    # Searching does not reveal it either.
    page.goto("/customers/?q=Secret")
    expect(page.locator("body")).not_to_contain_text("Ron's Secret Account")


# -- delete, confirm, undo -----------------------------------------------------------------


def family(tenant, admin, name):
    """A customer with two contacts, an opportunity and a ticket."""
    records = RecordMaker(tenant, admin)
    customer = records.customer(name=name)
    records.contact(customer, name="Wayne Knight")
    records.contact(customer, name="Carol Kane")
    records.opportunity(customer, name="Big deal")
    records.ticket(customer, subject="Broken widget")
    return customer


def is_alive(customer):
    return alive(Customer, pk=customer.pk).exists()


def test_delete_a_customer_from_its_page_then_undo(page, tenant, admin, snap):
    customer = family(tenant, admin, "Vandelay Industries")
    log_in(page, "erin")
    page.goto(f"/customers/{customer.pk}/")
    delete = page.locator(
        "a[href*='/recycle-bin/delete/customer/'], form[action*='/recycle-bin/delete/customer/'] [type=submit]"
    )
    assert delete.count() == 1, "the customer page has no delete button (to /recycle-bin/delete/customer/)"
    delete.click()

    # The confirmation says what goes to the bin with it.
    expect(by_testid(page, "confirmation")).to_be_visible()
    expect(by_testid(page, "confirm-statement")).to_contain_text(
        "1 customer, 2 contacts, 1 ticket, 1 opportunity will be moved to the recycle bin"
    )
    expect(by_testid(page, "confirm-record")).to_have_text([re.compile("Vandelay Industries")])
    snap(page, "delete-confirmation")
    by_testid(page, "confirm-button").click()

    expect(page).to_have_url(re.compile(r"/customers/$"))
    message = by_testid(page, "message").filter(has_text="Moved to the recycle bin")
    expect(message).to_contain_text("1 customer, 2 contacts, 1 ticket, 1 opportunity")
    expect(by_testid(page, "customer-row").filter(has_text="Vandelay Industries")).to_have_count(0)
    assert not is_alive(customer)
    elsewhere = page.context.new_page()
    assert elsewhere.goto(f"/customers/{customer.pk}/").status == 404
    elsewhere.close()

    message.get_by_test_id("undo-button").click()
    expect(by_testid(page, "message").filter(has_text="Undone")).to_contain_text("1 customer, 2 contacts")
    expect(by_testid(page, "customer-row").filter(has_text="Vandelay Industries")).to_have_count(1)
    assert is_alive(customer)
    assert alive(Contact, customer=customer).count() == 2
    page.goto(f"/customers/{customer.pk}/")
    expect(by_testid(page, "contact-row")).to_have_count(2)
    expect(by_testid(page, "opportunity-row")).to_contain_text("Big deal")
    expect(by_testid(page, "ticket-row")).to_contain_text("Broken widget")


# -- the recycle bin -------------------------------------------------------------------------


def test_the_recycle_bin_lists_a_deleted_record_and_restores_it(page, tenant, admin, snap):
    records = RecordMaker(tenant, admin)
    customer = records.customer(name="Pendant Publishing")
    records.contact(customer, name="Elaine Benes")
    with activate(tenant, user=admin, process="tests"):
        recyclebin.delete(Customer.objects.filter(pk=customer.pk), acting_user=admin)

    log_in(page, "erin")
    page.goto("/customers/")
    expect(by_testid(page, "customer-table")).not_to_contain_text("Pendant Publishing")
    by_testid(page, "nav-recycle-bin").click()
    row = by_testid(page, "bin-row").filter(has_text="Pendant Publishing")
    expect(row).to_have_count(1)
    expect(row.get_by_test_id("batch-size")).to_contain_text("2 records")
    expect(by_testid(page, "bin-row").filter(has_text="Elaine Benes")).to_have_count(1)
    snap(page, "recycle-bin")

    row.get_by_test_id("restore-one").click()
    expect(by_testid(page, "confirm-statement")).to_contain_text("1 customer, 1 contact will be restored")
    by_testid(page, "confirm-button").click()
    expect(page).to_have_url(re.compile(r"/recycle-bin/"))
    expect(by_testid(page, "message").filter(has_text="Restored")).to_contain_text("1 customer, 1 contact")
    expect(by_testid(page, "bin-empty")).to_be_visible()
    assert is_alive(customer)

    page.goto("/customers/")
    expect(by_testid(page, "customer-table")).to_contain_text("Pendant Publishing")
