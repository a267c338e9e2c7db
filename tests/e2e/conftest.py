"""Browser tests: Playwright (sync API) driving Debian's chromium against pytest-django's live_server.

One browser per test process (xdist workers each get their own, and their own
live server), kept while browser tests follow each other; a fresh browser
context, so fresh cookies, per test. Data is set
up through the project's own actions (tests.factories, seed_demo), logins go
through the real login page.

Without /usr/bin/chromium the tests skip with one line, except when CI=true:
then they fail, so CI cannot pass without having run them.
"""

import gettext
import os
import re
from pathlib import Path

import pytest

from tests.factories import PASSWORD, make_member, make_tenant

E2E_DIR = Path(__file__).resolve().parent
BASE_DIR = E2E_DIR.parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
MISSING = f"{CHROMIUM} is not installed: browser tests not run (apt-get install chromium)"
VIEWPORT = {"width": 1400, "height": 900}
ARTIFACTS = BASE_DIR / "test-artifacts" / "screenshots"
TIMEOUT_MS = 10_000
ZH_CATALOGUE = BASE_DIR / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.mo"


def zh_translation(message: str) -> str | None:
    """The project's compiled zh_Hans translation of `message`, or None while it has none."""
    if not ZH_CATALOGUE.exists():
        return None
    with ZH_CATALOGUE.open("rb") as catalogue:
        translated = gettext.GNUTranslations(catalogue).gettext(message)
    return translated if translated != message else None


class Chromium:
    """The one browser of this test process, started for the first browser test.

    Playwright's sync API keeps its asyncio event loop marked as running in this
    thread for as long as Playwright runs, so Django's "async unsafe" guard would
    refuse the tests' own ORM calls (hence DJANGO_ALLOW_ASYNC_UNSAFE), and
    async_to_sync would refuse to run at all. So Playwright runs only while
    browser tests do: it is stopped (and the variable restored) before any
    other test of this process runs, and started again if more browser tests come.
    """

    def __init__(self):
        self.playwright = None
        self.browser = None
        self.saved_env = None

    def get(self):
        if self.browser is None:
            from playwright.sync_api import sync_playwright

            self.saved_env = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
            self.playwright = sync_playwright().start()
            # A normal (non-persistent) launch: Playwright gives it a fresh temporary profile.
            self.browser = self.playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        return self.browser

    def stop(self):
        if self.playwright is None:
            return
        try:
            if self.browser is not None:
                self.browser.close()
        finally:
            self.playwright.stop()
            self.playwright = self.browser = None
            if self.saved_env is None:
                os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
            else:
                os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = self.saved_env


chromium = Chromium()


@pytest.fixture
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true and {MISSING}", pytrace=False)
        pytest.skip(MISSING)
    return chromium.get()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """After the fixtures of a browser test: stop Playwright unless a browser test comes next."""
    try:
        return (yield)
    finally:
        if nextitem is None or not Path(nextitem.path).is_relative_to(E2E_DIR):
            chromium.stop()


def pytest_sessionfinish(session):
    chromium.stop()


_reports_key = pytest.StashKey[dict]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the item, so `page` can tell whether the test failed."""
    report = yield
    item.stash.setdefault(_reports_key, {})[report.when] = report
    if report.skipped and isinstance(report.longrepr, tuple) and MISSING in str(report.longrepr[2]):
        # Every browser test skips for the same reason: one place, so -ra folds them into one line.
        report.longrepr = (__file__, None, MISSING)
    return report


@pytest.fixture
def page(request, browser, live_server):
    """A page of a fresh browser context (no cookies), addressed relative to the live server."""
    context = browser.new_context(base_url=live_server.url, viewport=VIEWPORT, locale="en-US")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    yield page
    call = request.node.stash.get(_reports_key, {}).get("call")
    if call is not None and call.failed:
        name = re.sub(r"[^\w.-]+", "_", request.node.nodeid)[-150:]
        (ARTIFACTS / "failures").mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "failures" / f"{name}.png"))
    context.close()


@pytest.fixture
def snap():
    """snap(page, name): keep a screenshot of what the test saw in test-artifacts/screenshots/."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def take(page, name):
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=False)

    return take


def log_in(page, username, password=PASSWORD):
    """Sign in through the real login page; ends on the page the login redirects to."""
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.click("form:has(#id_password) button[type=submit]")
    assert "/accounts/login/" not in page.url, f"login of {username} failed"


@pytest.fixture
def tenant(transactional_db):
    return make_tenant("e2e", name="E2E Trading")


@pytest.fixture
def admin(tenant):
    return make_member(tenant, "erin", role="admin")
