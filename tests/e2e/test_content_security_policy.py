"""The main pages run under the Content-Security-Policy without a single violation (no inline
script, no inline style, nothing from elsewhere), in a real browser."""

import pytest

from tests.e2e.conftest import log_in
from tests.factories import RecordMaker

pytestmark = pytest.mark.browser

# Collects every violation the browser reports, from the first script of each page on.
LISTEN = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations.push(`${event.violatedDirective} ${event.blockedURI} ${event.sourceFile}:${event.lineNumber}`);
});
"""
PAGES = [
    "/",
    "/customers/",
    "/customers/new/",
    "/customers/contacts/",
    "/customers/interactions/",
    "/tickets/",
    "/tickets/new/",
    "/opportunities/",
    "/opportunities/pipeline/",
    "/recycle-bin/",
    "/audit/",
    "/backups/",
    "/accounts/preferences/",
    "/accounts/company/",
    "/api/docs/",
    "/imports/",
    "/imports/new/",
    "/imports/delete-by-list/",
]


def test_the_main_pages_cause_no_policy_violation(page, tenant, admin):
    customer = RecordMaker(tenant, admin).customer(name="Initech")
    console = []
    page.on("console", lambda message: console.append(message.text))
    page.add_init_script(LISTEN)
    log_in(page, "erin")
    violations = {}
    for path in [*PAGES, f"/customers/{customer.pk}/"]:
        response = page.goto(path)
        assert "script-src 'self'" in response.headers["content-security-policy"], path
        page.wait_for_load_state("networkidle")
        if found := page.evaluate("window.__violations"):
            violations[path] = found
    assert not violations, violations
    assert not [text for text in console if "Content Security Policy" in text], console

    # The listener does hear a violation: an inline style set as an attribute is one.
    page.evaluate("document.body.insertAdjacentHTML('beforeend', '<p style=\"color: red\">x</p>')")
    page.wait_for_function("window.__violations.length > 0")
