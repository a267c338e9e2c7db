"""Lists count their rows only up to a cap, so a million-row tenant pages as fast as a small one."""

from django.urls import reverse

from crm.tenancy.actions import api_token_for
from crm.web import pagination
from tests.conftest import login


def test_the_browser_list_says_more_than_the_cap(records, admin_user, monkeypatch):
    monkeypatch.setattr(pagination, "COUNT_CAP", 5)
    for _ in range(7):
        records.customer()
    page = login(admin_user).get(reverse("customers:list"), {"page_size": 2}).content.decode()
    assert "of more than 5" in page


def test_the_browser_list_counts_exactly_below_the_cap(records, admin_user):
    for _ in range(3):
        records.customer()
    page = login(admin_user).get(reverse("customers:list"), {"page_size": 2}).content.decode()
    assert "1–2 of 3" in page


def _api(client, tenant, user):
    token = api_token_for(tenant, user.username, acting_user=None).key
    return lambda **query: client.get("/api/v1/customers/", query, HTTP_AUTHORIZATION=f"Token {token}").json()


def test_the_api_counts_only_when_asked_and_caps_the_count(records, tenant, admin_user, client, monkeypatch):
    monkeypatch.setattr(pagination, "COUNT_CAP", 5)
    for _ in range(7):
        records.customer()
    api = _api(client, tenant, admin_user)
    body = api(page_size=2)
    assert (body["count"], body["count_capped"], len(body["results"])) == (None, None, 2)
    assert "page=2" in body["next"]
    body = api(page_size=2, count="true")
    assert (body["count"], body["count_capped"], len(body["results"])) == (5, True, 2)
    monkeypatch.setattr(pagination, "COUNT_CAP", 100)
    body = api(page_size=2, count="true")
    assert (body["count"], body["count_capped"]) == (7, False)


def test_the_last_page_knows_the_count_without_counting(records, tenant, admin_user, client):
    for _ in range(5):
        records.customer()
    api = _api(client, tenant, admin_user)
    body = api(page_size=2, page=3)
    assert (body["count"], body["count_capped"], len(body["results"]), body["next"]) == (5, False, 1, None)
    assert "page=2" in body["previous"]
    body = api(page_size=5)
    assert (body["count"], body["next"], body["previous"]) == (5, None, None)


def test_walking_next_links_visits_every_row_once(records, tenant, admin_user, client):
    created = {records.customer().pk for _ in range(7)}
    token = api_token_for(tenant, admin_user.username, acting_user=None).key
    seen, url = [], "/api/v1/customers/?page_size=3"
    while url:
        body = client.get(url, HTTP_AUTHORIZATION=f"Token {token}").json()
        seen += [row["id"] for row in body["results"]]
        url = body["next"]
    assert sorted(seen) == sorted(created)


def test_count_must_be_true_or_false(records, tenant, admin_user, client):
    token = api_token_for(tenant, admin_user.username, acting_user=None).key
    response = client.get("/api/v1/customers/", {"count": "maybe"}, HTTP_AUTHORIZATION=f"Token {token}")
    assert response.status_code == 400
    assert "count" in response.json()["error"]["fields"]
