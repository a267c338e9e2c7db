"""Two people edit one record in two browser sessions: the second save never silently wins."""

import pytest
from playwright.sync_api import expect

from customers.models import Customer
from sales.models import Opportunity
from tests.e2e.conftest import TIMEOUT_MS, VIEWPORT, log_in
from tests.factories import RecordMaker, make_member

pytestmark = pytest.mark.browser


@pytest.fixture
def second_page(browser, live_server):
    """Another person's browser: its own context, so its own session."""
    context = browser.new_context(base_url=live_server.url, viewport=VIEWPORT, locale="en-US")
    context.set_default_timeout(TIMEOUT_MS)
    yield context.new_page()
    context.close()


def test_two_sessions_edit_one_customer_and_the_second_save_shows_the_conflict(page, second_page, tenant, admin, snap):
    customer = RecordMaker(tenant, admin).customer(name="Initech", phone="+1 555 0100")
    make_member(tenant, "frank", role="manager")
    log_in(page, "erin")
    log_in(second_page, "frank")
    edit = f"/customers/{customer.pk}/edit/"
    page.goto(edit)
    second_page.goto(edit)

    # Frank saves first.
    second_page.get_by_test_id("customer-form").get_by_label("Phone").fill("+1 555 0199")
    second_page.get_by_test_id("save").click()
    expect(second_page).to_have_url(f"{second_page.url.split('/customers/')[0]}/customers/{customer.pk}/")

    # Erin, on the form she opened before, types and saves.
    form = page.get_by_test_id("customer-form")
    form.get_by_label("Phone").fill("+1 555 0123")
    form.get_by_label("Notes").fill("Call back on Monday")
    page.get_by_test_id("save").click()

    conflict = page.get_by_test_id("version-conflict")
    expect(conflict).to_be_visible()
    expect(conflict.get_by_test_id("conflict-changes")).to_contain_text("frank")
    expect(conflict.get_by_test_id("conflict-changes")).to_contain_text("phone")
    expect(conflict.get_by_test_id("conflict-now")).to_contain_text("+1 555 0199")
    expect(form.get_by_label("Phone")).to_have_value("+1 555 0123")  # nothing typed is lost
    expect(form.get_by_label("Notes")).to_have_value("Call back on Monday")
    snap(page, "edit-conflict")
    stored = Customer.all_objects.get(pk=customer.pk)
    assert (stored.phone, stored.version) == ("+1 555 0199", 2)

    # She saves hers over it, knowingly.
    conflict.get_by_test_id("conflict-overwrite").click()
    expect(page).to_have_url(f"{page.url.split('/customers/')[0]}/customers/{customer.pk}/")
    stored = Customer.all_objects.get(pk=customer.pk)
    assert (stored.phone, stored.notes, stored.version) == ("+1 555 0123", "Call back on Monday", 3)


def test_a_card_changed_in_another_session_stays_where_it_is_when_dragged(page, second_page, tenant, admin):
    records = RecordMaker(tenant, admin)
    deal = records.opportunity(records.customer(name="Initech"), name="TPS reports", stage=Opportunity.Stage.LEAD)
    make_member(tenant, "frank", role="manager")
    log_in(page, "erin")
    log_in(second_page, "frank")
    page.goto("/opportunities/pipeline/")

    def card_in(stage):
        return page.get_by_test_id(f"board-column-{stage}").locator(
            f'[data-testid=opportunity-card][data-id="{deal.pk}"]'
        )

    expect(card_in("lead")).to_be_visible()
    # Frank moves the deal to "qualified" meanwhile.
    second_page.goto("/opportunities/pipeline/")
    frank_card = second_page.get_by_test_id("board-column-lead").locator(f'[data-id="{deal.pk}"]')
    frank_card.get_by_test_id("card-move-select").select_option("qualified")
    frank_card.get_by_test_id("card-move-submit").click()
    expect(second_page.get_by_test_id("board-column-qualified").locator(f'[data-id="{deal.pk}"]')).to_be_visible()

    # Erin drags the card she still sees in "lead" to "proposal".
    card_in("lead").drag_to(page.get_by_test_id("board-column-proposal").locator("[data-dropzone]"))

    expect(page.locator("#messages")).to_contain_text("changed since you loaded the page and was not moved")
    expect(card_in("qualified")).to_be_visible()
    deal.refresh_from_db()
    assert (deal.stage, deal.version) == (Opportunity.Stage.QUALIFIED, 2)
