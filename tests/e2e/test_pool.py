"""The public pool in the browser: a rep opens the Pool page from the menu, claims a customer,
sees their quota go down, and the customer opens for them."""

import re

import pytest
from playwright.sync_api import expect

from crm.tenancy.actions import update_tenant_settings
from customers.models import Customer
from tests.e2e.conftest import log_in
from tests.factories import RecordMaker, make_member

pytestmark = pytest.mark.browser


def test_a_rep_claims_a_customer_from_the_pool(page, tenant, admin, snap):
    update_tenant_settings(tenant, pool_enabled=True, pool_claims_per_day=2, acting_user=None)
    records = RecordMaker(tenant, admin)
    globex = records.customer(name="Globex", industry="Energy", owner=None, notes="Do not show")
    records.customer(name="Hooli", industry="Tech", owner=None)
    make_member(tenant, "rita", role="rep")
    log_in(page, "rita")

    page.get_by_test_id("nav-pool").click()
    expect(page).to_have_url(re.compile(r"/pool/$"))
    expect(page.get_by_test_id("pool-quota")).to_contain_text("You may claim 2 more now")
    row = page.locator(f'[data-testid="pool-row"][data-id="{globex.pk}"]')
    expect(row).to_contain_text("Energy")
    expect(page.get_by_test_id("pool-table")).not_to_contain_text("Do not show")
    snap(page, "pool")

    row.get_by_test_id("claim").click()
    expect(page.get_by_text("Globex is now your customer.")).to_be_visible()
    expect(page.get_by_test_id("pool-quota")).to_contain_text("You may claim 1 more now")
    expect(page.locator(f'[data-testid="pool-row"][data-id="{globex.pk}"]')).to_have_count(0)
    assert Customer.all_objects.get(pk=globex.pk).owner.username == "rita"

    page.goto(f"/customers/{globex.pk}/")
    expect(page.get_by_text("Do not show")).to_be_visible()  # now theirs: the whole record opens
