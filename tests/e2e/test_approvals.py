"""Four eyes in Chromium: an admin asks to delete several customers, a second admin approves, the requester is told."""

import re

import pytest
from playwright.sync_api import expect

from crm.approvals.actions import update_policy
from crm.approvals.models import ApprovalRequest
from crm.tenancy.context import activate
from customers.models import Customer
from tests.e2e.conftest import TIMEOUT_MS, VIEWPORT, log_in
from tests.factories import RecordMaker, make_member

pytestmark = pytest.mark.browser


def alive_count() -> int:
    return Customer.all_objects.filter(deleted_at__isnull=True).count()


def test_request_a_bulk_delete_then_a_second_admin_approves_it(page, browser, live_server, tenant, admin, snap):
    with activate(tenant, process="tests"):
        update_policy(acting_user=None, enabled=True, bulk_threshold=2, expiry_hours=24)
    maker = RecordMaker(tenant, admin)
    for name in ("Acme", "Globex", "Initech"):
        maker.customer(name=name)
    approver = make_member(tenant, "quinn", role="admin")

    # Erin selects every customer and asks to delete them, with a reason.
    log_in(page, "erin")
    page.goto("/customers/")
    page.get_by_test_id("select-all").check()
    page.get_by_test_id("bulk-delete").click()
    expect(page.get_by_test_id("confirmation")).to_contain_text("A second person must approve this first")
    page.get_by_test_id("approval-reason").fill("Test companies from the trade fair")
    page.get_by_test_id("confirm-button").click()
    expect(page).to_have_url(re.compile(r"/approvals/$"))
    expect(page.locator("#messages")).to_contain_text("your request waits for a second person's approval")
    row = page.get_by_test_id("approvals-waiting").get_by_test_id("approval-row")
    expect(row).to_contain_text("Bulk delete: 3 customers")
    expect(row).to_contain_text("Test companies from the trade fair")
    expect(row.get_by_test_id("approval-approve")).to_have_count(0)  # not their own
    snap(page, "approval-requested")
    assert alive_count() == 3

    # Quinn, the second admin, approves it from the approvals list.
    context = browser.new_context(base_url=live_server.url, viewport=VIEWPORT, locale="en-US")
    context.set_default_timeout(TIMEOUT_MS)
    second = context.new_page()
    try:
        log_in(second, approver.username)
        second.get_by_test_id("nav-approvals").click()
        second.get_by_test_id("approval-approve").click()
        expect(second.locator("#messages")).to_contain_text("Approved: 3 customers moved to the recycle bin.")
        expect(second.get_by_test_id("approvals-answered").get_by_test_id("approval-status")).to_contain_text(
            "Approved"
        )
        snap(second, "approval-approved")
    finally:
        context.close()
    assert alive_count() == 0
    assert ApprovalRequest.all_objects.get().decided_by_id == approver.pk

    # Erin's next page says how it ended.
    page.goto("/")
    expect(page.locator("#messages")).to_contain_text("was approved and done")
