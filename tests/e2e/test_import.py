"""Import in the browser: Customers -> Import, upload a GBK file, check the mapping, preview, confirm, revert."""

import re

import pytest
from playwright.sync_api import expect

from customers.models import Customer
from tests.e2e.conftest import log_in
from tests.factories import RecordMaker
from tests.imports.helpers import csv_bytes

pytestmark = pytest.mark.browser


def alive_names():
    return sorted(Customer.all_objects.filter(deleted_at__isnull=True).values_list("name", flat=True))


def test_upload_preview_confirm_then_revert_an_import(page, tenant, admin, snap):
    RecordMaker(tenant, admin).customer(name="老客户", email="old@example.com", industry="零售")
    content = csv_bytes(
        [
            ["客户名称", "邮箱", "行业", "负责人"],
            ["新客户甲", "a@example.com", "制造", "erin"],
            ["老客户", "old@example.com", "批发", "erin"],
            ["新客户乙", "b@example.com", "", "nobody"],
        ],
        "gbk",
    )
    log_in(page, "erin")
    page.goto("/customers/")
    page.get_by_test_id("customer-import").click()
    page.locator("input[type=file]").set_input_files({"name": "客户.csv", "mimeType": "text/csv", "buffer": content})
    page.get_by_test_id("import-upload").click()

    expect(page.get_by_test_id("map-0")).to_have_value("name")
    expect(page.get_by_test_id("map-1")).to_have_value("email")
    expect(page.get_by_test_id("map-3")).to_have_value("owner")
    page.get_by_test_id("import-mode").select_option("upsert")
    page.get_by_test_id("import-preview").click()

    expect(page.get_by_test_id("import-row-create")).to_have_count(1)
    expect(page.get_by_test_id("import-row-update")).to_contain_text("Updates industry")
    expect(page.get_by_test_id("import-row-error")).to_contain_text("Unknown owner “nobody”")
    snap(page, "import-preview")
    assert alive_names() == ["老客户"]  # nothing written before the confirmation

    page.get_by_test_id("import-confirm").click()
    expect(page.get_by_test_id("import-status")).to_contain_text("Imported")
    expect(page.get_by_test_id("import-counts")).to_contain_text("created: 1")
    expect(page.get_by_test_id("import-failed-rows")).to_be_visible()
    assert alive_names() == ["新客户甲", "老客户"]
    assert Customer.all_objects.get(name="老客户").industry == "批发"

    page.get_by_test_id("import-revert").click()
    expect(page.get_by_test_id("import-reverted")).to_be_visible()
    assert alive_names() == ["老客户"]
    assert Customer.all_objects.get(name="老客户").industry == "零售"
    message = page.get_by_test_id("message").filter(has_text="reverted")
    message.get_by_test_id("undo-button").click()
    expect(page.get_by_test_id("message").filter(has_text="Undone")).to_be_visible()
    assert alive_names() == ["新客户甲", "老客户"]
    expect(page).to_have_url(re.compile(r"/"))
