"""Who sees the pool, and how much of it: the pool's columns only, never notes or children."""

import pytest
from django.urls import reverse

from crm.tenancy.actions import update_tenant_settings
from tests.api.conftest import error_of, token_client
from tests.conftest import login
from tests.factories import make_member

pytestmark = pytest.mark.django_db

POOL_PAGE = "/pool/"
POOL_API = "/api/v1/pool/"


@pytest.fixture
def secretive(in_pool, records):
    """A pool customer with notes, a contact, an interaction and a ticket, all with secrets in them."""
    customer = in_pool(name="Globex", industry="Energy", notes="SECRET-NOTE", phone="+1 555 0100")
    records.contact(customer, name="SECRET-CONTACT")
    records.interaction(customer, summary="SECRET-INTERACTION")
    records.ticket(customer, subject="SECRET-TICKET")
    return customer


def test_the_pool_page_lists_customers_without_an_owner_with_the_pool_columns_only(rep, secretive, records):
    records.customer(name="Owned Co")  # has an owner: not in the pool
    page = login(rep).get(POOL_PAGE)
    assert page.status_code == 200
    text = page.content.decode()
    assert "Globex" in text and "Energy" in text
    assert "Owned Co" not in text
    assert "SECRET" not in text and "555" not in text
    assert f'data-id="{secretive.pk}"' in text and 'data-testid="claim"' in text


def test_the_api_lists_exactly_id_name_industry_and_last_activity(rep, pool_tenant, secretive):
    body = token_client(pool_tenant, rep).get(POOL_API).json()
    assert [set(row) for row in body["results"]] == [{"id", "name", "industry", "last_activity"}]
    assert body["results"][0]["name"] == "Globex"
    assert body["results"][0]["last_activity"] is not None  # the interaction
    assert body["quota"] == {"claims_per_day": 3, "claimed_today": 0, "max_held": 5, "held": 0, "remaining": 3}
    assert "SECRET" not in str(body)


def test_a_rep_cannot_reach_a_pool_customers_notes_or_children_by_any_page_or_resource(rep, pool_tenant, secretive):
    browser = login(rep)
    for url in (f"/customers/{secretive.pk}/", f"/customers/{secretive.pk}/edit/"):
        assert browser.get(url).status_code == 404
    for url in ("/customers/", "/tickets/", "/customers/?q=Globex"):
        assert "SECRET" not in browser.get(url).content.decode()
    api = token_client(pool_tenant, rep)
    error_of(api.get(f"/api/v1/customers/{secretive.pk}/"), 404)
    for resource in ("customers", "contacts", "interactions", "tickets"):
        assert "SECRET" not in api.get(f"/api/v1/{resource}/").content.decode()


def test_managers_and_admins_see_the_pool_too_but_support_and_viewers_do_not(pool_tenant, secretive):
    for role, status in (("admin", 200), ("manager", 200), ("rep", 200), ("support", 403), ("viewer", 403)):
        member = make_member(pool_tenant, role=role)
        assert login(member).get(POOL_PAGE).status_code == status, role
        assert token_client(pool_tenant, member).get(POOL_API).status_code == status, role


def test_with_the_setting_off_there_is_no_pool(tenant, in_pool, admin_user):
    customer = in_pool(name="Globex")
    rep = make_member(tenant, "rita", role="rep")
    browser = login(rep)
    assert browser.get(POOL_PAGE).status_code == 404
    assert 'data-testid="nav-pool"' not in browser.get(reverse("dashboard")).content.decode()
    api = token_client(tenant, rep)
    assert error_of(api.get(POOL_API), 404)["code"] == "pool_off"
    assert error_of(api.post(f"{POOL_API}{customer.pk}/claim/"), 404)["code"] == "pool_off"
    assert browser.post(f"/pool/{customer.pk}/claim/").status_code == 404

    update_tenant_settings(tenant, pool_enabled=True, acting_user=None)
    assert 'data-testid="nav-pool"' in browser.get(reverse("dashboard")).content.decode()
    assert browser.get(POOL_PAGE).status_code == 200


def test_a_company_sees_only_its_own_pool(rep, pool_tenant, in_pool, other_tenant, other_records):
    update_tenant_settings(other_tenant, pool_enabled=True, acting_user=None)
    ours = in_pool(name="Ours Ltd")
    theirs = other_records.customer(name="Theirs GmbH", owner=None)
    api = token_client(pool_tenant, rep)
    assert [row["name"] for row in api.get(POOL_API).json()["results"]] == ["Ours Ltd"]
    assert "Theirs" not in login(rep).get(POOL_PAGE).content.decode()
    error_of(api.post(f"{POOL_API}{theirs.pk}/claim/"), 404)
    theirs.refresh_from_db()
    assert theirs.owner_id is None
    assert api.post(f"{POOL_API}{ours.pk}/claim/").status_code == 200


def test_the_pool_list_costs_the_same_queries_for_3_or_30_customers(
    rep, pool_tenant, in_pool, records, django_assert_max_num_queries
):
    api = token_client(pool_tenant, rep)
    for _ in range(3):
        records.interaction(in_pool())
    api.get(POOL_API + "?page_size=50")
    with django_assert_max_num_queries(30) as few:
        api.get(POOL_API + "?page_size=50")
    for _ in range(27):
        records.interaction(in_pool())
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(api.get(POOL_API + "?page_size=50").json()["results"]) == 30
