"""Lists count their rows only up to a cap, so a million-row tenant pages as fast as a small one."""

from django.urls import reverse

from crm import pagination
from crm.tenancy.actions import api_token_for
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


def test_the_api_caps_its_count_and_says_so(records, tenant, admin_user, client, monkeypatch):
    monkeypatch.setattr(pagination, "COUNT_CAP", 5)
    for _ in range(7):
        records.customer()
    token = api_token_for(tenant, admin_user.username).key
    body = client.get("/api/v1/customers/", {"page_size": 2}, HTTP_AUTHORIZATION=f"Token {token}").json()
    assert (body["count"], body["count_capped"], len(body["results"])) == (5, True, 2)
    monkeypatch.setattr(pagination, "COUNT_CAP", 100)
    body = client.get("/api/v1/customers/", HTTP_AUTHORIZATION=f"Token {token}").json()
    assert (body["count"], body["count_capped"]) == (7, False)
