"""Webhooks in the browser: an admin adds one, copies its secret (shown once), sends a test, and sees
the delivery arrive in the log; a new customer then shows up there too."""

import hashlib
import hmac
import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import log_in
from tests.factories import RecordMaker
from tests.webhooks.conftest import receiver, webhook_settings  # noqa: F401  (fixtures)
from webhooks.models import Endpoint

pytestmark = pytest.mark.browser


def test_add_a_webhook_send_a_test_and_see_the_deliveries(page, tenant, admin, snap, celery_worker, receiver):  # noqa: F811
    log_in(page, "erin")
    page.locator(".dropdown-toggle", has_text="erin").click()  # the account menu
    page.get_by_test_id("nav-webhooks").click()
    page.get_by_test_id("create-webhook").click()
    form = page.get_by_test_id("webhook-form")
    form.get_by_label("Name").fill("Order system")
    form.get_by_label("URL").fill(receiver.url)
    form.get_by_label("customer.created").check()
    page.get_by_test_id("save").click()

    endpoint = Endpoint.all_objects.get(name="Order system")
    expect(page).to_have_url(re.compile(rf"/webhooks/{endpoint.pk}/$"))
    expect(page.get_by_test_id("new-secret")).to_contain_text(endpoint.secret)
    snap(page, "webhook-created")

    page.get_by_test_id("send-test").click()
    log = page.get_by_test_id("delivery-log")
    expect(log).to_be_visible()
    for _ in range(50):  # the worker sends it meanwhile; the page shows it after a reload
        if log.locator('[data-status="delivered"]').count():
            break
        page.wait_for_timeout(200)
        page.reload()
    row = log.locator('[data-testid="delivery-row"][data-status="delivered"]')
    expect(row).to_contain_text("ping")
    expect(row.get_by_test_id("status-code")).to_have_text("200")
    expect(page.get_by_test_id("new-secret")).to_have_count(0)  # shown once

    RecordMaker(tenant, admin).customer(name="Initech")
    for _ in range(50):
        page.reload()
        if page.get_by_test_id("delivery-log").locator('[data-status="delivered"]').count() == 2:
            break
        page.wait_for_timeout(200)
    expect(page.get_by_test_id("delivery-log").locator('[data-status="delivered"]')).to_have_count(2)
    expect(page.get_by_test_id("delivery-log")).to_contain_text("customer.created")
    snap(page, "webhook-deliveries")

    assert [request["headers"]["X-CRM-Event"] for request in receiver.requests] == ["ping", "customer.created"]
    last = receiver.requests[-1]
    signature = "sha256=" + hmac.new(endpoint.secret.encode(), last["raw"], hashlib.sha256).hexdigest()
    assert last["headers"]["X-CRM-Signature"] == signature
