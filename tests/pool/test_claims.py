"""Claiming a pool customer and releasing one: the owner changes, within the limits, audited and in history."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from crm.tenancy.acting import ActionConflict
from crm.tenancy.actions import update_tenant_settings
from crm.tenancy.context import activate
from customers.models import Customer
from pool import actions
from pool.models import PoolClaim
from tests.api.conftest import error_of, token_client
from tests.conftest import login
from tests.factories import make_member
from tests.trail import Trail

pytestmark = pytest.mark.django_db


def claim(tenant, user, customer):
    with activate(tenant, user=user, process="tests"):
        return actions.claim_customer(customer.pk, acting_user=user)


def test_claiming_makes_the_rep_the_owner_with_a_claimed_history_row_and_audit_event(rep, pool_tenant, in_pool):
    customer = in_pool(name="Globex")
    api = token_client(pool_tenant, rep)
    with Trail(pool_tenant) as trail:
        response = api.post(f"/api/v1/pool/{customer.pk}/claim/")
    assert response.status_code == 200
    assert response.json()["name"] == "Globex" and set(response.json()) == {"id", "name", "industry", "last_activity"}
    customer.refresh_from_db()
    assert customer.owner_id == rep.pk and customer.version == 2
    assert trail.events == [("claimed", "customer", str(customer.pk))]
    assert trail.event_objects[0].actor_id == rep.pk
    assert trail.versions == [("customer", customer.pk, "~", "claimed")]
    row = customer.history.latest()
    assert row.owner_id == rep.pk and row.history_user_id == rep.pk
    # Now it is the rep's: its page opens for them, and it has left the pool.
    assert login(rep).get(f"/customers/{customer.pk}/").status_code == 200
    assert token_client(pool_tenant, rep).get("/api/v1/pool/").json()["results"] == []


def test_claiming_on_the_pool_page_says_so_and_shows_the_remaining_quota(rep, pool_tenant, in_pool):
    customer = in_pool(name="Globex")
    browser = login(rep)
    assert "You may claim 3 more now" in browser.get("/pool/").content.decode()
    page = browser.post(f"/pool/{customer.pk}/claim/", follow=True).content.decode()
    assert "Globex is now your customer." in page
    assert "You may claim 2 more now" in page and "holding 1 of 5" in page


def test_a_rep_claims_at_most_the_daily_limit(rep, pool_tenant, in_pool):
    customers = [in_pool() for _ in range(4)]
    for customer in customers[:3]:
        claim(pool_tenant, rep, customer)
    with pytest.raises(ActionConflict) as refused:
        claim(pool_tenant, rep, customers[3])
    assert refused.value.code == "daily_limit"
    customers[3].refresh_from_db()
    assert customers[3].owner_id is None
    error = error_of(token_client(pool_tenant, rep).post(f"/api/v1/pool/{customers[3].pk}/claim/"), 409)
    assert error["code"] == "daily_limit" and "claimed 3 customers today" in error["message"]
    page = login(rep).post(f"/pool/{customers[3].pk}/claim/", follow=True).content.decode()
    assert "claim again tomorrow" in page


def test_yesterdays_claims_do_not_count_today(rep, pool_tenant, in_pool):
    for _ in range(3):
        claim(pool_tenant, rep, in_pool())
    PoolClaim.all_objects.update(claimed_at=timezone.now() - timedelta(days=1, hours=1))
    assert claim(pool_tenant, rep, in_pool()).owner_id == rep.pk


def test_a_rep_holds_at_most_the_limit_of_customers(rep, pool_tenant, in_pool, records):
    for _ in range(5):
        records.customer(owner=rep)  # given by the admin: held, not claimed
    customer = in_pool()
    with pytest.raises(ActionConflict) as refused:
        claim(pool_tenant, rep, customer)
    assert refused.value.code == "held_limit"
    assert "release one to the pool first" in str(refused.value)
    assert "disabled" in login(rep).get("/pool/").content.decode()


def test_a_customer_already_claimed_is_not_claimed_again(rep, other_rep, pool_tenant, in_pool):
    customer = in_pool()
    claim(pool_tenant, rep, customer)
    with pytest.raises(ActionConflict) as refused:
        claim(pool_tenant, other_rep, customer)
    assert refused.value.code == "taken"
    error = error_of(token_client(pool_tenant, other_rep).post(f"/api/v1/pool/{customer.pk}/claim/"), 404)
    assert "not in the pool" in error["message"]
    customer.refresh_from_db()
    assert customer.owner_id == rep.pk


def test_support_and_viewers_do_not_claim(pool_tenant, in_pool):
    customer = in_pool()
    for role in ("support", "viewer"):
        member = make_member(pool_tenant, role=role)
        with pytest.raises(PermissionDenied):
            claim(pool_tenant, member, customer)
        error_of(token_client(pool_tenant, member).post(f"/api/v1/pool/{customer.pk}/claim/"), 403)
    customer.refresh_from_db()
    assert customer.owner_id is None


@pytest.mark.parametrize("raw", ["0", "99999999999999999999", "abc", "1%00"])
def test_a_nonsense_id_is_a_404_not_a_500(rep, pool_tenant, raw):
    api = token_client(pool_tenant, rep)
    assert api.post(f"/api/v1/pool/{raw}/claim/").status_code == 404
    assert api.post(f"/api/v1/customers/{raw}/release/").status_code == 404
    assert login(rep).post(f"/pool/{raw}/claim/").status_code in (302, 404)


def test_a_rep_releases_their_own_customer_to_the_pool(rep, pool_tenant, records):
    customer = records.customer(name="Initech", owner=rep)
    api = token_client(pool_tenant, rep)
    with Trail(pool_tenant) as trail:
        response = api.post(f"/api/v1/customers/{customer.pk}/release/")
    assert response.status_code == 200
    customer.refresh_from_db()
    assert customer.owner_id is None
    assert trail.events == [("released", "customer", str(customer.pk))]
    assert trail.event_objects[0].detail == {"previous_owner_id": rep.pk}
    assert trail.versions == [("customer", customer.pk, "~", "released")]
    assert [row["name"] for row in token_client(pool_tenant, rep).get("/api/v1/pool/").json()["results"]] == ["Initech"]
    error = error_of(
        token_client(pool_tenant, make_member(pool_tenant, role="admin")).post(
            f"/api/v1/customers/{customer.pk}/release/"
        ),
        409,
    )
    assert error["code"] == "in_pool"


def test_releasing_in_the_browser_returns_to_the_customer_list(rep, pool_tenant, records):
    customer = records.customer(name="Initech", owner=rep)
    response = login(rep).post(f"/pool/release/{customer.pk}/", follow=True)
    assert "Initech is back in the public pool." in response.content.decode()
    assert response.redirect_chain[-1][0] == "/customers/"


def test_a_rep_may_not_release_a_colleagues_customer_but_a_manager_may(rep, other_rep, pool_tenant, records):
    theirs = records.customer(owner=other_rep)
    error_of(token_client(pool_tenant, rep).post(f"/api/v1/customers/{theirs.pk}/release/"), 404)  # not visible
    theirs.refresh_from_db()
    assert theirs.owner_id == other_rep.pk
    manager = make_member(pool_tenant, role="manager")
    assert token_client(pool_tenant, manager).post(f"/api/v1/customers/{theirs.pk}/release/").status_code == 200
    assert Customer.all_objects.get(pk=theirs.pk).owner_id is None


def test_a_rep_may_not_release_a_customer_only_shared_with_them(rep, other_rep, pool_tenant, records):
    from customers.actions import share_customer

    theirs = records.customer(owner=other_rep)
    records._run(share_customer, theirs, rep)
    error = error_of(token_client(pool_tenant, rep).post(f"/api/v1/customers/{theirs.pk}/release/"), 403)
    assert "owner" in error["message"]
    theirs.refresh_from_db()
    assert theirs.owner_id == other_rep.pk


def test_the_customer_page_offers_release_to_its_owner_while_the_pool_is_on(rep, other_rep, pool_tenant, records):
    customer = records.customer(owner=rep)
    assert 'data-testid="release-to-pool"' in login(rep).get(f"/customers/{customer.pk}/").content.decode()
    from customers.actions import share_customer

    records._run(share_customer, customer, other_rep)
    assert 'data-testid="release-to-pool"' not in login(other_rep).get(f"/customers/{customer.pk}/").content.decode()
    update_tenant_settings(pool_tenant, pool_enabled=False, acting_user=None)
    assert 'data-testid="release-to-pool"' not in login(rep).get(f"/customers/{customer.pk}/").content.decode()


def test_the_history_page_says_claimed_and_released(rep, pool_tenant, in_pool):
    customer = in_pool()
    claim(pool_tenant, rep, customer)
    browser = login(rep)
    assert "Claimed from the pool" in browser.get(f"/history/customer/{customer.pk}/").content.decode()
    browser.post(f"/pool/release/{customer.pk}/")
    admin = login(make_member(pool_tenant, role="admin"))
    page = admin.get(f"/history/customer/{customer.pk}/").content.decode()
    assert "Released to the pool" in page and "Claimed from the pool" in page


def test_a_read_only_token_lists_the_pool_but_does_not_claim(rep, pool_tenant, in_pool):
    from crm.tenancy.actions import create_api_token
    from tests.api.conftest import key_client

    customer = in_pool()
    token = create_api_token(pool_tenant, rep, name="viewer", scope="read", acting_user=None)
    api = key_client(token.key)
    assert api.get("/api/v1/pool/").status_code == 200
    error_of(api.post(f"/api/v1/pool/{customer.pk}/claim/"), 403)
    customer.refresh_from_db()
    assert customer.owner_id is None
