"""Token create-use-revoke in the browser: Preferences -> API tokens, the key once, then revoked."""

import json
import urllib.error
import urllib.request

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import log_in

pytestmark = pytest.mark.browser


def whoami(live_server, key) -> int:
    request = urllib.request.Request(f"{live_server.url}/api/v1/whoami/", headers={"Authorization": f"Token {key}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status if json.load(response)["username"] == "erin" else -1
    except urllib.error.HTTPError as error:
        return error.code


def test_create_a_token_use_it_and_revoke_it(page, live_server, tenant, admin, snap):
    log_in(page, "erin")
    page.goto(f"{live_server.url}/accounts/preferences/")
    page.get_by_test_id("preferences-tokens").click()
    form = page.get_by_test_id("new-token-form")
    form.get_by_label("Name").fill("spreadsheet import")
    form.get_by_label("Scope").select_option("write")
    page.get_by_test_id("create-token").click()
    key = page.get_by_test_id("new-token-key").inner_text().strip()
    snap(page, "token-created")
    assert whoami(live_server, key) == 200

    page.goto(f"{live_server.url}/accounts/preferences/tokens/")
    expect(page.get_by_test_id("new-token")).to_have_count(0)
    row = page.get_by_test_id("token-row").filter(has_text="spreadsheet import")
    expect(row).to_contain_text(key[:8])
    row.get_by_test_id("revoke-token").click()
    expect(page.get_by_test_id("token-row").filter(has_text="spreadsheet import")).to_contain_text("revoked")
    assert whoami(live_server, key) == 401
