"""Search and saved views in the browser: Ctrl-K focuses the header's box, typing shows grouped
results, Enter opens the results page; a list's filters are saved as a view and picked again."""

import re

import pytest
from playwright.sync_api import expect

from crm.savedviews.models import SavedView
from tests.e2e.conftest import log_in
from tests.factories import RecordMaker

pytestmark = pytest.mark.browser


def test_ctrl_k_then_search_finds_records_grouped_by_type(page, tenant, admin, snap):
    maker = RecordMaker(tenant, admin)
    customer = maker.customer(name="华为技术有限公司", email="contact@huawei.example")
    maker.contact(customer, name="张伟")
    maker.task(customer=customer, title="华为技术 renewal call")
    log_in(page, "erin")

    page.goto("/tickets/")
    page.wait_for_load_state("load")  # search.js (deferred) listens from here on
    page.keyboard.press("Control+k")
    box = page.get_by_test_id("global-search")
    expect(box).to_be_focused()
    box.fill("华为技术")
    dropdown = page.get_by_test_id("global-search-dropdown")
    expect(dropdown.get_by_test_id("search-group-customer")).to_contain_text("华为技术有限公司")
    expect(dropdown.get_by_test_id("search-group-contact")).to_contain_text("张伟")
    expect(dropdown.get_by_test_id("search-group-task")).to_contain_text("renewal call")
    snap(page, "search-dropdown")

    box.press("Enter")
    expect(page).to_have_url(re.compile(r"/search/\?q="))
    results = page.get_by_test_id("search-results")
    results.get_by_test_id("search-group-customer").get_by_role("link", name="华为技术有限公司").click()
    expect(page).to_have_url(re.compile(rf"/customers/{customer.pk}/$"))


def test_save_the_current_filters_as_a_view_and_pick_it_again(page, tenant, admin, snap):
    maker = RecordMaker(tenant, admin)
    maker.customer(name="Alpha Active", status="active", tier="A")
    maker.customer(name="Beta Lead", status="lead", tier="B")
    log_in(page, "erin")

    page.goto("/customers/?status=active&sort=-name")
    expect(page.get_by_text("Beta Lead")).to_have_count(0)
    page.get_by_test_id("save-view-toggle").click()
    page.get_by_test_id("save-view-name").fill("Active customers")
    page.get_by_test_id("save-view-shared").check()
    page.get_by_test_id("save-view-submit").click()
    view = SavedView.all_objects.get(tenant=tenant, name="Active customers")
    assert view.query == "status=active&sort=-name" and view.shared

    page.get_by_test_id("saved-view-select").select_option("")  # all records, no view
    expect(page.get_by_text("Beta Lead")).to_be_visible()
    page.get_by_test_id("saved-view-select").select_option(str(view.pk))
    expect(page).to_have_url(re.compile(rf"/customers/\?status=active&sort=-name&view={view.pk}$"))
    expect(page.get_by_text("Beta Lead")).to_have_count(0)
    expect(page.get_by_text("Alpha Active")).to_be_visible()

    page.get_by_test_id("make-default-view").click()
    page.goto("/customers/")
    expect(page).to_have_url(re.compile(rf"view={view.pk}$"))
    snap(page, "saved-view-default")
