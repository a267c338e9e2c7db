"""Hostile input gets a 4xx with the JSON error body (API) or a clear page (browser), never a 500;
and the bin does not tell a rep which ids exist."""

import logging

import pytest
from django.test import Client

from audit.models import AuditEvent
from crm.recyclebin import actions as recyclebin
from crm.tenancy.context import activate
from customers.models import Customer
from tests.api.conftest import error_of, token_client
from tests.conftest import login
from tests.factories import RecordMaker, make_member

BROWSER_LISTS = {
    "/customers/": ["page", "page_size", "owner", "tier", "q"],
    "/customers/interactions/": ["page", "occurred_after", "occurred_before", "author", "customer"],
    "/tickets/": ["page", "due_from", "due_to", "assignee", "overdue"],
    "/opportunities/": ["page", "page_size"],
    "/recycle-bin/": ["page", "since", "until", "deleted_by", "batch", "type"],
    "/audit/": ["page", "since", "until", "actor", "batch", "object_id"],
    "/backups/": ["page", "restores_page"],
}
API_LISTS = {
    "/api/v1/customers/": ["page", "page_size", "owner", "created_after", "created_before"],
    "/api/v1/interactions/": ["page", "occurred_after", "occurred_before", "author"],
    "/api/v1/tickets/": ["page", "due_after", "due_before", "customer"],
    "/api/v1/recycle-bin/": ["page", "deleted_after", "deleted_before", "deleted_by", "batch"],
    "/api/v1/audit-events/": ["page", "created_after", "created_before", "actor", "batch"],
}
HOSTILE = ["4e17", "9999-12-31", "9999-12-31T23:59:59-14:00", "\x00"]


def hostile_queries(names):
    return [{name: value} for name in names for value in HOSTILE]


@pytest.fixture
def api(tenant, admin_user):
    client = token_client(tenant, admin_user)
    client.raise_request_exception = False
    return client


@pytest.fixture
def admin_browser(admin_user, records):
    client = login(admin_user)
    client.raise_request_exception = False
    return client


@pytest.mark.parametrize(("url", "names"), BROWSER_LISTS.items())
def test_browser_lists_and_filters_answer_hostile_values_without_a_server_error(admin_browser, url, names):
    for query in hostile_queries(names):
        response = admin_browser.get(url, query)
        assert response.status_code in (200, 400), (response.status_code, url, query)


@pytest.mark.parametrize(("url", "names"), API_LISTS.items())
def test_api_lists_and_filters_answer_hostile_values_with_the_error_body(api, url, names):
    for query in hostile_queries(names):
        response = api.get(url, query)
        if response.status_code != 200:
            error_of(response, 400)


def test_the_recycle_bin_until_the_last_day_of_the_calendar_is_a_form_error(admin_browser):
    response = admin_browser.get("/recycle-bin/", {"until": "9999-12-31"})
    assert response.status_code == 200
    assert "Ensure this value is less than or equal to" in response.content.decode()


def test_a_page_past_the_end_shows_the_last_page_and_a_page_that_is_no_number_the_first(admin_browser, records):
    for index in range(3):
        records.customer(name=f"Paged {index}")
    last = admin_browser.get("/customers/", {"page_size": 2, "page": 2})
    beyond = admin_browser.get("/customers/", {"page_size": 2, "page": 4_000_000})
    assert beyond.status_code == 200
    assert beyond.context["page_obj"].number == last.context["page_obj"].number == 2
    assert admin_browser.get("/customers/", {"page": "4e17"}).context["page_obj"].number == 1


def test_json_nested_a_thousand_deep_is_a_400(api):
    body = '{"name": ' + "[" * 1000 + "]" * 1000 + "}"
    response = api.post("/api/v1/customers/", body, content_type="application/json")
    assert "nested too deeply" in error_of(response, 400)["message"]


def test_a_body_over_the_limit_is_a_413_with_the_error_body(api, admin_browser, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    body = '{"name": "' + "x" * 20_000 + '"}'
    error = error_of(api.post("/api/v1/customers/", body, content_type="application/json"), 413)
    assert error["code"] == "request_too_large"
    assert admin_browser.post("/customers/new/", {"name": "x" * 20_000}).status_code == 413
    assert api.post("/api/v1/customers/", '{"name": "small"}', content_type="application/json").status_code == 201


# -- no oracle in the bin ------------------------------------------------------------------------


def test_a_rep_cannot_tell_a_colleagues_bin_item_from_one_that_does_not_exist(tenant, admin_user):
    colleague = make_member(tenant, role="rep")
    customer = RecordMaker(tenant, colleague).customer(name="Not yours", owner=colleague)
    with activate(tenant, user=colleague, process="tests"):
        recyclebin.delete(Customer.objects.filter(pk=customer.pk), acting_user=colleague)
    rep = login(make_member(tenant, role="rep"))
    api = token_client(tenant, make_member(tenant, role="rep"))
    answers = []
    for pk in (customer.pk, customer.pk + 10_000):
        page = rep.post(f"/recycle-bin/customer/{pk}/restore/", {"confirm": "1"})
        item = rep.get(f"/recycle-bin/customer/{pk}/")
        call = api.post("/api/v1/recycle-bin/restore/", {"items": [{"type": "customer", "id": pk}]}, format="json")
        answers.append((page.status_code, item.status_code, call.status_code, call.json()["error"]["code"]))
    assert answers[0] == answers[1]
    assert answers[0][:3] == (404, 404, 404)
    assert AuditEvent.objects.filter(action=AuditEvent.Action.REFUSED, object_id=str(customer.pk)).exists()


# -- expected refusals are one log line ----------------------------------------------------------


def test_a_refusal_is_logged_in_one_line_and_a_crash_with_its_traceback(settings, caplog):
    settings.ROOT_URLCONF = "tests.test_error_pages"
    settings.DEBUG = False
    client = Client(raise_request_exception=False)
    with caplog.at_level(logging.WARNING):
        client.get("/failing/forbidden/")
        client.get("/failing/missing/")
        client.get("/failing/suspicious/")
        client.get("/failing/boom/")
    refusals = [record for record in caplog.records if getattr(record, "status_code", 500) < 500]
    crashes = [record for record in caplog.records if getattr(record, "status_code", 0) == 500]
    assert len(refusals) >= 3 and all(record.exc_info is None for record in refusals)
    assert crashes and crashes[0].exc_info
