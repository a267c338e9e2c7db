"""Sign-in in the browser: two-factor enrolment and sign-in, and a lockout cleared by an admin."""

import re

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from tests.e2e.conftest import log_in
from tests.factories import PASSWORD, make_member

pytestmark = pytest.mark.browser


def app_code(device, steps_ahead=0) -> str:
    """What an authenticator app shows now (or `steps_ahead` 30-second steps later)."""
    return f"{totp(device.bin_key, step=device.step, t0=device.t0 - steps_ahead * device.step):06d}"


def test_enrol_in_two_factor_sign_in_from_preferences_then_sign_in_with_a_code(page, tenant, admin, snap):
    log_in(page, "erin")
    page.goto("/accounts/preferences/")
    page.get_by_test_id("mfa-on").click()
    expect(page.get_by_test_id("mfa-qr").locator("svg")).to_be_visible()
    key = page.get_by_test_id("mfa-key").inner_text().replace(" ", "")
    device = TOTPDevice.objects.get(user=admin, confirmed=False)
    assert key == re.search(r"secret=(\w+)", device.config_url).group(1)
    snap(page, "mfa-setup")
    page.fill("#id_code", app_code(device))
    page.get_by_test_id("mfa-confirm").click()
    expect(page.get_by_test_id("mfa-codes").locator("li")).to_have_count(10)

    page.context.clear_cookies()
    log_in(page, "erin")
    expect(page.get_by_test_id("mfa-verify")).to_be_visible()
    page.goto("/customers/")
    expect(page).to_have_url(re.compile(r"/accounts/2fa/\?next=/customers/"))
    page.fill("#id_code", app_code(device, steps_ahead=1))
    page.get_by_role("button", name="Verify").click()
    expect(page).to_have_url(re.compile(r"/customers/$"))


def test_a_locked_out_member_is_told_why_and_an_admin_clears_the_lock(
    page, browser, tenant, admin, live_server, settings
):
    settings.AXES_FAILURE_LIMIT = 2
    make_member(tenant, "rory", role="rep")
    # The admin signed in before: the failures below lock rory's account and this address.
    admin_context = browser.new_context(base_url=live_server.url, locale="en-US")
    admin_page = admin_context.new_page()
    log_in(admin_page, "erin")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        page.goto("/accounts/login/")
        page.fill("#id_username", "rory")
        page.fill("#id_password", "not-my-password")
        page.click("form:has(#id_password) button[type=submit]")
    expect(page.get_by_test_id("locked-out")).to_contain_text("Signing in is locked")
    try:
        admin_page.goto("/accounts/company/")
        expect(admin_page.get_by_test_id("locked-members")).to_contain_text("rory")
        admin_page.get_by_test_id("clear-lock").click()
        expect(admin_page.locator("#messages")).to_contain_text("rory may sign in again.")
    finally:
        admin_context.close()

    log_in(page, "rory", PASSWORD)
    expect(page).to_have_url(re.compile(r"/$"))
