"""Hostile input on the task and notification pages and the API: a clear answer, never a 500."""

import pytest
from django.urls import reverse

from tests.api.conftest import error_of, token_client
from tests.conftest import login
from tests.factories import make_user

HOSTILE = ["4e17", "9999-12-31", "9999-12-31T23:59:59-14:00", "\x00", "-1", "99999999999999999999999"]
BROWSER = {
    "/tasks/": ["page", "page_size", "q", "state", "assignee", "priority", "sort"],
    "/tasks/mine/": ["page", "page_size"],
    "/tasks/new/": ["customer", "contact", "opportunity", "ticket"],
    "/notifications/": ["page"],
}
API = ["page", "assignee", "customer", "done", "priority", "due_after", "due_before"]


@pytest.fixture
def browser(admin_user, records):
    client = login(admin_user)
    client.raise_request_exception = False
    return client


@pytest.mark.parametrize(("url", "names"), BROWSER.items())
def test_the_pages_answer_hostile_values_without_a_server_error(browser, records, url, names):
    records.task()
    for name in names:
        for value in HOSTILE:
            response = browser.get(url, {name: value})
            assert response.status_code in (200, 400), (response.status_code, url, name, value)


def test_the_api_answers_hostile_values_with_the_error_body(tenant, admin_user, records):
    api = token_client(tenant, admin_user)
    api.raise_request_exception = False
    for name in API:
        for value in HOSTILE:
            response = api.get("/api/v1/tasks/", {name: value})
            if response.status_code != 200:
                error_of(response, 400)
    for body in (
        {"title": "x", "remind_before": 7},
        {"title": "x", "due_at": "yesterday"},
        {"title": "x", "done": "maybe"},
    ):
        assert set(error_of(api.post("/api/v1/tasks/", body, format="json"), 400)["fields"]) & set(body)


def test_marking_read_with_nonsense_and_as_a_non_member(browser):
    for value in HOSTILE:
        assert browser.post(reverse("notifications:read"), {"id": value}).status_code == 302
    assert browser.post(reverse("notifications:read"), {"open": "//evil.example/"}).url == reverse("notifications:list")
    stranger = login(make_user())
    stranger.raise_request_exception = False
    assert stranger.get(reverse("notifications:list")).status_code == 403
    assert stranger.get(reverse("tasks:mine")).status_code in (200, 403)
