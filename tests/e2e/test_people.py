"""Company settings -> People in the browser: invite, accept and sign in; change a role; remove a
member whose session is open in another browser, which ends there at once."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from tests.e2e.conftest import TIMEOUT_MS, VIEWPORT, log_in
from tests.factories import make_member

pytestmark = pytest.mark.browser


@pytest.fixture
def second_browser(browser, live_server):
    """A page of another browser context: another person at another computer."""
    context = browser.new_context(base_url=live_server.url, viewport=VIEWPORT, locale="en-US")
    context.set_default_timeout(TIMEOUT_MS)
    yield context.new_page()
    context.close()


def open_people(page, username="erin"):
    page.goto("/")
    page.locator(".dropdown-toggle", has_text=username).click()  # the account menu
    page.get_by_test_id("nav-people").click()
    expect(page.get_by_test_id("people-table")).to_be_visible()


def row_of(page, username):
    return page.locator(f'[data-testid="person-row"][data-username="{username}"]')


def test_invite_accept_and_sign_in(page, second_browser, tenant, admin, snap):
    log_in(page, "erin")
    open_people(page)
    form = page.get_by_test_id("invite-form")
    form.get_by_label("Email").fill("frank@example.com")
    form.get_by_label("Role").select_option("support")
    page.get_by_test_id("send-invitation").click()
    expect(page.get_by_test_id("invitations")).to_contain_text("frank@example.com")
    snap(page, "people-invited")
    [message] = mail.outbox
    link = re.search(r"https?://\S+/accounts/invitation/\w+/", message.body).group(0)

    newcomer = second_browser
    newcomer.goto(link)
    expect(newcomer.get_by_role("heading")).to_contain_text("Join E2E Trading")
    newcomer.fill("#id_username", "frank")
    newcomer.fill("#id_password", "frank-chooses-a-password")
    newcomer.fill("#id_password_again", "frank-chooses-a-password")
    newcomer.get_by_test_id("accept").click()
    expect(newcomer).to_have_url(re.compile(r"/accounts/login/"))
    log_in(newcomer, "frank", "frank-chooses-a-password")
    expect(newcomer.locator(".dropdown-toggle", has_text="frank")).to_contain_text("Support agent")

    page.reload()
    expect(row_of(page, "frank")).to_contain_text("active")
    expect(row_of(page, "frank").get_by_test_id("role-select")).to_have_value("support")
    newcomer.goto(link)
    expect(newcomer.get_by_test_id("invitation-invalid")).to_be_visible()


def test_an_admin_changes_a_role_and_the_member_sees_it_next_page(page, second_browser, tenant, admin):
    make_member(tenant, "gina", role="rep")
    gina = second_browser
    log_in(gina, "gina")
    assert gina.goto("/accounts/company/people/").status == 403

    log_in(page, "erin")
    open_people(page)
    row_of(page, "gina").get_by_test_id("role-select").select_option("manager")
    row_of(page, "gina").get_by_test_id("change-role").click()
    expect(page.locator(".alert-success")).to_contain_text("gina's role was changed.")
    expect(row_of(page, "gina").get_by_test_id("role-select")).to_have_value("manager")

    assert gina.goto("/accounts/company/people/").status == 200
    expect(gina.get_by_test_id("people-table")).to_contain_text("erin")
    expect(gina.get_by_test_id("invite-form")).to_have_count(0)


def test_removing_a_member_ends_their_open_session(page, second_browser, tenant, admin, snap):
    make_member(tenant, "hank", role="rep")
    hank = second_browser
    log_in(hank, "hank")
    hank.goto("/customers/")
    expect(hank).to_have_url(re.compile(r"/customers/$"))

    log_in(page, "erin")
    open_people(page)
    row_of(page, "hank").get_by_test_id("remove-member").click()
    expect(page.locator(".alert-success")).to_contain_text("hank was removed from the company.")
    expect(row_of(page, "hank")).to_have_count(0)
    snap(page, "people-removed")

    hank.reload()
    expect(hank).to_have_url(re.compile(r"/accounts/login/"))
