"""Attachments in the browser: upload (choosing and dropping files), download, delete, undo."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from attachments.models import Attachment
from tests.e2e.conftest import log_in
from tests.factories import RecordMaker

pytestmark = pytest.mark.browser

CONTRACT = "合同 2026.txt"


def test_upload_download_delete_and_undo_a_file_on_a_customer(page, tenant, admin, snap, tmp_path):
    customer = RecordMaker(tenant, admin).customer(name="Initech")
    first = tmp_path / CONTRACT
    first.write_text("第一条：付款。\n", encoding="utf-8")
    second = tmp_path / "minutes.csv"
    second.write_text("date,topic\n2026-11-26,renewal\n")
    log_in(page, "erin")
    page.goto(f"/customers/{customer.pk}/")
    section = page.get_by_test_id("attachments-section")
    expect(section.get_by_test_id("attachments-empty")).to_be_visible()

    # Choosing files sends them at once (static/crm/attachments.js); the page comes back with both.
    with page.expect_navigation():
        section.get_by_test_id("attachment-input").set_input_files([str(first), str(second)])
    expect(page.get_by_test_id("message").filter(has_text="Attached 2 files.")).to_be_visible()
    rows = page.get_by_test_id("attachment-row")
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text=CONTRACT)).to_contain_text("erin")
    snap(page, "attachments")

    # Dropping a file on the card uploads it too.
    with page.expect_navigation():
        page.evaluate(
            """() => {
                const transfer = new DataTransfer();
                transfer.items.add(new File(["dropped\\n"], "dropped.txt", {type: "text/plain"}));
                const zone = document.querySelector("form[data-attachment-drop]");
                zone.dispatchEvent(new DragEvent("drop", {dataTransfer: transfer, bubbles: true, cancelable: true}));
            }"""
        )
    expect(page.get_by_test_id("attachment-row")).to_have_count(3)

    # Download: the browser saves it under its Chinese name, byte for byte.
    with page.expect_download() as download_info:
        rows.filter(has_text=CONTRACT).get_by_test_id("attachment-download").click()
    download = download_info.value
    assert download.suggested_filename == CONTRACT
    assert Path(download.path()).read_bytes() == first.read_bytes()

    # Delete: the recycle bin's confirmation, back to the customer, then Undo.
    rows.filter(has_text=CONTRACT).get_by_test_id("attachment-delete").click()
    expect(page.get_by_test_id("confirm-record")).to_have_text([re.compile(re.escape(CONTRACT))])
    page.get_by_test_id("confirm-button").click()
    expect(page).to_have_url(re.compile(rf"/customers/{customer.pk}/#attachments$"))
    message = page.get_by_test_id("message").filter(has_text="Moved to the recycle bin")
    expect(message).to_contain_text("1 attachment")
    expect(page.get_by_test_id("attachment-row")).to_have_count(2)
    assert not Attachment.all_objects.filter(name=CONTRACT, deleted_at__isnull=True).exists()

    message.get_by_test_id("undo-button").click()
    expect(page.get_by_test_id("message").filter(has_text="Undone")).to_be_visible()
    expect(page.get_by_test_id("attachment-row").filter(has_text=CONTRACT)).to_have_count(1)
    assert Attachment.all_objects.filter(name=CONTRACT, deleted_at__isnull=True).exists()


def test_a_file_over_the_limit_is_refused_before_it_is_sent(page, tenant, admin, settings, tmp_path):
    settings.ATTACHMENT_MAX_FILE_BYTES = 100
    customer = RecordMaker(tenant, admin).customer(name="Hooli")
    big = tmp_path / "big.txt"
    big.write_text("x" * 500)
    log_in(page, "erin")
    page.goto(f"/customers/{customer.pk}/")
    page.get_by_test_id("attachment-input").set_input_files(str(big))
    expect(page.locator("[data-attachment-problem]")).to_contain_text("big.txt is larger than 100")
    assert not Attachment.all_objects.exists()
