"""Project-wide error pages: HTML for the browser, the API's JSON error body under /api/.

Views that raise are mounted by a test URLconf (this module) that carries the
project's own handler400/403/404/500 from crm.urls in front of its routes.
"""

import json
import os
import re
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.http import Http404
from django.test import Client, RequestFactory
from django.urls import path, reverse

from crm import urls as project_urls
from crm.recyclebin import actions as recyclebin
from crm.tenancy.context import activate
from crm.web import errors
from customers.models import Ticket
from tests.conftest import login

# -- a URLconf whose views fail on purpose ---------------------------------------------


def boom(request):
    raise RuntimeError("an unexpected failure")


def forbidden(request):
    raise PermissionDenied("Only the night shift may do this.")


def forbidden_silently(request):
    raise PermissionDenied


def missing(request):
    raise Http404("No Customer matches the given query.")


def suspicious(request):
    raise SuspiciousOperation("odd input")


FAILING = [
    path("boom/", boom),
    path("forbidden/", forbidden),
    path("forbidden-silently/", forbidden_silently),
    path("missing/", missing),
    path("suspicious/", suspicious),
]
urlpatterns = [
    *[path(f"api/test/{route.pattern}", route.callback) for route in FAILING],
    *[path(f"failing/{route.pattern}", route.callback) for route in FAILING],
    *project_urls.urlpatterns,
]
handler400 = project_urls.handler400
handler403 = project_urls.handler403
handler404 = project_urls.handler404
handler500 = project_urls.handler500


@pytest.fixture
def failing_urls(settings):
    settings.ROOT_URLCONF = __name__
    settings.DEBUG = False


@pytest.fixture
def anonymous():
    return Client(raise_request_exception=False)


def page(response) -> str:
    return response.content.decode()


def api_error(response) -> dict:
    assert response["Content-Type"] == "application/json"
    body = json.loads(response.content)
    assert set(body) == {"error"}
    assert {"code", "message", "fields"} <= set(body["error"])
    assert body["error"]["fields"] == {}
    return body["error"]


def test_the_project_urlconf_names_the_handlers():
    assert project_urls.handler400 == "crm.web.errors.bad_request"
    assert project_urls.handler403 == "crm.web.errors.permission_denied"
    assert project_urls.handler404 == "crm.web.errors.page_not_found"
    assert project_urls.handler500 == "crm.web.errors.server_error"


# -- 404 ------------------------------------------------------------------------------


def test_an_unknown_page_is_the_404_page_with_the_navigation(admin_user):
    response = login(admin_user).get("/no/such/page/")
    assert response.status_code == 404
    html = page(response)
    assert 'data-testid="error-page" data-status="404"' in html
    assert "Page not found" in html and "<code>/no/such/page/</code>" in html
    assert 'data-testid="nav-recycle-bin"' in html  # base.html, signed in
    assert reverse("dashboard") in html


def test_a_missing_record_shows_the_404_page_without_the_developer_message(admin_user):
    response = login(admin_user).get(reverse("customers:detail", args=[987654321]))
    assert response.status_code == 404
    html = page(response)
    assert 'data-status="404"' in html and "No Customer matches" not in html


def test_the_404_page_for_someone_signed_out(db, anonymous):
    response = anonymous.get("/no/such/page/")
    assert response.status_code == 404
    html = page(response)
    assert 'data-status="404"' in html and 'data-testid="nav-recycle-bin"' not in html
    assert f'href="{reverse("login")}"' in html


def test_the_404_page_is_translated(admin_user):
    client = login(admin_user, language="zh-hans")
    html = page(client.get("/no/such/page/"))
    assert '<html lang="zh-hans">' in html


def test_an_unknown_api_path_is_json(db, anonymous):
    response = anonymous.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert api_error(response)["code"] == "not_found"


def test_http404_raised_under_the_api_is_json(db, failing_urls, anonymous):
    response = anonymous.get("/api/test/missing/")
    assert response.status_code == 404
    error = api_error(response)
    assert error["code"] == "not_found" and error["message"] == "No Customer matches the given query."


# -- 403 ------------------------------------------------------------------------------


def test_a_refused_page_is_the_403_page(records, member_client):
    viewer = member_client("viewer")
    response = viewer.get(reverse("customers:create"))
    assert response.status_code == 403
    html = page(response)
    assert 'data-testid="error-page" data-status="403"' in html and "Not allowed" in html
    assert "does not allow this" in html
    assert 'data-testid="nav-customers"' in html


def test_the_403_page_shows_the_reason_a_view_gave(db, failing_urls, admin_user):
    client = login(admin_user)
    client.raise_request_exception = False
    html = page(client.get("/failing/forbidden/"))
    assert "Only the night shift may do this." in html and 'data-status="403"' in html


def test_403_under_the_api_is_json(db, failing_urls, anonymous):
    response = anonymous.get("/api/test/forbidden/")
    assert response.status_code == 403
    error = api_error(response)
    assert error == {"code": "permission_denied", "message": "Only the night shift may do this.", "fields": {}}
    response = anonymous.get("/api/test/forbidden-silently/")
    assert api_error(response)["message"] == "You do not have permission to do this."


# -- 400 ------------------------------------------------------------------------------


def test_a_bad_request_is_the_plain_400_page(db, failing_urls, anonymous):
    response = anonymous.get("/failing/suspicious/")
    assert response.status_code == 400
    html = page(response)
    assert 'data-testid="error-page" data-status="400"' in html
    assert '<link rel="stylesheet" href="/static/crm/crm.css">' in html


def test_400_under_the_api_is_json(db, failing_urls, anonymous):
    response = anonymous.get("/api/test/suspicious/")
    assert response.status_code == 400
    assert api_error(response)["code"] == "bad_request"


# -- 500 ------------------------------------------------------------------------------


def test_a_server_error_is_the_plain_500_page(db, failing_urls, admin_user):
    client = login(admin_user)
    client.raise_request_exception = False
    response = client.get("/failing/boom/")
    assert response.status_code == 500
    html = page(response)
    assert 'data-testid="error-page" data-status="500"' in html
    assert '<link rel="stylesheet" href="/static/crm/crm.css">' in html
    assert "an unexpected failure" not in html
    assert 'data-testid="nav-' not in html  # no base.html, no user


def test_500_under_the_api_is_json(db, failing_urls, anonymous):
    response = anonymous.get("/api/test/boom/")
    assert response.status_code == 500
    error = api_error(response)
    assert error["code"] == "server_error" and "an unexpected failure" not in error["message"]


def test_the_500_page_needs_neither_the_database_nor_a_request_context():
    # No `db` fixture: pytest-django fails any query made here.
    request = RequestFactory().get("/customers/")
    response = errors.server_error(request)
    assert response.status_code == 500
    assert 'data-status="500"' in page(response)
    assert 'data-status="400"' in page(errors.bad_request(request, SuspiciousOperation("x")))


def test_a_broken_500_template_still_answers_500(settings):
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [], "APP_DIRS": False, "OPTIONS": {**settings.TEMPLATES[0]["OPTIONS"]}}
    ]
    response = errors.server_error(RequestFactory().get("/"))
    assert response.status_code == 500 and "Server error" in page(response)


def test_the_404_page_renders_for_a_request_that_never_reached_the_auth_middleware(db):
    request = RequestFactory().get("/nowhere/")  # no request.user, no session
    response = errors.page_not_found(request, Http404())
    assert response.status_code == 404 and 'data-status="404"' in page(response)


# -- failed htmx requests in a real browser (static/crm/crm.js) ---------------------------

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


@pytest.fixture
def browser_context(live_server):
    """A fresh Chromium context on the live server; Playwright runs only during the test.

    Playwright's sync API keeps an event loop running in this thread, which Django's
    async-unsafe guard would take for async code: the guard is relaxed meanwhile.
    """
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true and {CHROMIUM} is not installed", pytrace=False)
        pytest.skip(f"{CHROMIUM} is not installed: browser tests not run")
    from playwright.sync_api import sync_playwright

    saved = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(base_url=live_server.url, viewport={"width": 1300, "height": 900})
        context.set_default_timeout(10_000)
        context.live_server_url = live_server.url
        yield context
        context.close()
        browser.close()
    finally:
        playwright.stop()
        if saved is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = saved


def signed_in_page(context, user):
    """A page whose browser shares a session of `user` (logged in through the test client)."""
    session = login(user).cookies["sessionid"].value
    context.add_cookies([{"name": "sessionid", "value": session, "url": context.live_server_url}])
    return context.new_page()


@pytest.fixture
def ticket_page(browser_context, records, admin_user):
    """(page, ticket): the admin on a ticket's page, whose status buttons post through htmx."""
    ticket = records.ticket(subject="Flaky printer")
    page = signed_in_page(browser_context, admin_user)
    page.goto(reverse("tickets:detail", args=[ticket.pk]))
    page.wait_for_function("() => window.htmx !== undefined")
    return page, ticket


def error_alert(page):
    alert = page.locator("#messages [data-testid=htmx-error]")
    alert.wait_for()
    return alert


@pytest.mark.browser
def test_a_4xx_answer_to_htmx_shows_its_message(ticket_page, records, admin_user):
    page, ticket = ticket_page
    with activate(records.tenant, user=admin_user):
        recyclebin.delete(Ticket.objects.filter(pk=ticket.pk), acting_user=admin_user)  # meanwhile, elsewhere
    page.click("[data-testid=status-resolved]")
    assert "This page does not exist, or what it shows is not visible to you." in error_alert(page).inner_text()
    assert page.locator("[data-testid=ticket-subject]").inner_text() == "Flaky printer"  # the page stays


@pytest.mark.browser
def test_a_json_error_shows_the_api_message(ticket_page):
    page, _ticket = ticket_page
    body = json.dumps({"error": {"code": "conflict", "message": "Somebody else changed it.", "fields": {}}})
    page.route("**/status/", lambda route: route.fulfill(status=409, content_type="application/json", body=body))
    page.click("[data-testid=status-resolved]")
    assert error_alert(page).inner_text().strip() == "Somebody else changed it."


@pytest.mark.browser
def test_a_5xx_answer_shows_a_generic_message_not_the_body(ticket_page):
    page, _ticket = ticket_page
    secret = "<html><body><main><h1>Traceback: password=hunter2</h1></main></body></html>"
    page.route("**/status/", lambda route: route.fulfill(status=500, content_type="text/html", body=secret))
    page.click("[data-testid=status-resolved]")
    text = error_alert(page).inner_text()
    assert "Something went wrong on our side" in text and "hunter2" not in page.content()


@pytest.mark.browser
def test_an_expired_session_reloads_the_page_instead_of_swapping_in_the_login_page(ticket_page):
    page, ticket = ticket_page
    page.context.clear_cookies(name="sessionid")
    with page.expect_navigation():
        page.click("[data-testid=status-resolved]")
    page.wait_for_url(re.compile(r"/accounts/login/\?next="))
    assert page.url.endswith(f"next={quote(reverse('tickets:detail', args=[ticket.pk]))}")
    assert page.locator("#id_username").count() == 1
    assert page.locator("#ticket-detail").count() == 0


@pytest.mark.browser
def test_a_400_with_form_errors_is_still_swapped_by_the_ticket_page(ticket_page):
    page, _ticket = ticket_page
    form_errors = '<div id="ticket-detail"><p data-testid="form-error">Pick a valid assignee.</p></div>'
    page.route("**/assign/", lambda route: route.fulfill(status=400, content_type="text/html", body=form_errors))
    page.click("[data-testid=assign-submit]")
    page.locator("[data-testid=form-error]").wait_for()
    assert page.locator("#messages [data-testid=htmx-error]").count() == 0


@pytest.mark.browser
def test_delete_selected_is_enabled_by_a_selection(browser_context, records, admin_user):
    records.ticket(), records.ticket()
    page = signed_in_page(browser_context, admin_user)
    page.goto(reverse("tickets:list"))
    button = page.locator("[data-testid=bulk-delete]")
    assert button.is_disabled()
    page.check("[data-testid=select-all]")
    assert button.is_enabled() and page.locator("[data-testid=row-select]:checked").count() == 2
    with page.expect_navigation():
        button.click()
    assert "2 tickets will be moved to the recycle bin." in page.locator("[data-testid=confirm-statement]").inner_text()
