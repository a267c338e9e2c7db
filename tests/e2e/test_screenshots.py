"""README screenshots of the main pages, taken against the seed_demo data at 1400x900.

Written into docs/screenshots/ only with UPDATE_SCREENSHOTS=1, so `make test`
never rewrites the committed files; otherwise into test-artifacts/screenshots/readme/:

    UPDATE_SCREENSHOTS=1 .venv/bin/python -m crm.devservices exec -- \\
        .venv/bin/python -m pytest -p no:cacheprovider tests/e2e/test_screenshots.py
"""

import io
import os

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from crm.records.management.commands.seed_demo import DEMO_PASSWORD
from crm.recyclebin import actions as recyclebin
from crm.tenancy.context import activate
from crm.tenancy.models import Tenant
from customers.models import Customer
from tests.e2e.conftest import ARTIFACTS, BASE_DIR, log_in

pytestmark = pytest.mark.browser

SCREENSHOTS = BASE_DIR / "docs" / "screenshots" if os.environ.get("UPDATE_SCREENSHOTS") == "1" else ARTIFACTS / "readme"


@pytest.fixture
def demo(transactional_db):
    call_command("seed_demo", stdout=io.StringIO())
    tenant = Tenant.objects.get(slug="acme")
    admin = tenant.memberships.get(user__username="admin").user
    with activate(tenant, user=admin, process="tests"):
        # Something in the recycle bin: a customer deleted with its contact, opportunity and ticket.
        recyclebin.delete(Customer.objects.filter(name="Tailspin Toys"), acting_user=admin)
        detail_pk = Customer.objects.get(name="Northwind Traders").pk
    return {"detail_pk": detail_pk}


def test_readme_screenshots(page, demo):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def shoot(name, ready):
        expect(ready).to_be_visible()
        page.mouse.move(0, 0)  # no hover effects
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=False)

    log_in(page, "admin", DEMO_PASSWORD)
    shoot("dashboard", page.get_by_test_id("pipeline-count").first)

    page.goto("/customers/")
    shoot("customers", page.get_by_test_id("customer-table"))

    page.goto(f"/customers/{demo['detail_pk']}/")
    shoot("customer-detail", page.get_by_test_id("customer-header"))

    page.goto("/opportunities/pipeline/")
    shoot("pipeline", page.get_by_test_id("board"))

    page.goto("/tickets/")
    shoot("tickets", page.get_by_test_id("ticket-table"))

    page.goto("/recycle-bin/")
    shoot("recycle-bin", page.get_by_test_id("bin-table"))

    page.goto("/")
    with page.expect_navigation():
        page.get_by_test_id("language-switcher").locator("select").select_option("zh-hans")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    shoot("dashboard-zh", page.get_by_test_id("pipeline-count").first)
