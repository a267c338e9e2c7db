"""History over the API: versions with their diffs, and revert."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.tenancy.context import activate
from customers import actions
from customers.models import Customer
from tests.api.conftest import error_of


def test_history_lists_versions_with_their_changes(api, records):
    customer = records.customer(name="Old name", tier="C")
    records._run(actions.update_customer, customer, name="New name", tier="A")
    response = api.get(f"/api/v1/customers/{customer.pk}/history/")
    assert response.status_code == 200, response.content
    versions = response.json()["results"]
    assert [v["history_type"] for v in versions] == ["~", "+"]
    latest = versions[0]
    assert latest["user"] == records.actor.username
    assert latest["reason"]
    assert {c["field"]: (c["old"], c["new"]) for c in latest["changes"]} == {
        "name": ("Old name", "New name"),
        "tier": ("C", "A"),
    }
    assert versions[1]["changes"] == []


def test_history_pages_keep_their_diffs_and_a_constant_query_count(api, records):
    customer = records.customer(name="v0")
    api.get(f"/api/v1/customers/{customer.pk}/history/")
    with CaptureQueriesContext(connection) as few:
        api.get(f"/api/v1/customers/{customer.pk}/history/")
    for n in range(1, 8):
        records._run(actions.update_customer, customer, name=f"v{n}")
    with CaptureQueriesContext(connection) as many:
        body = api.get(f"/api/v1/customers/{customer.pk}/history/", {"page_size": 3}).json()
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]
    last_on_page = body["results"][-1]
    assert last_on_page["changes"] == [{"field": "name", "old": "v4", "new": "v5"}]


def test_revert_puts_a_version_back(api, records):
    customer = records.customer(name="Original")
    records._run(actions.update_customer, customer, name="Mistake")
    original = api.get(f"/api/v1/customers/{customer.pk}/history/").json()["results"][-1]
    response = api.post(f"/api/v1/customers/{customer.pk}/history/{original['history_id']}/revert/")
    assert response.status_code == 200, response.content
    assert response.json()["name"] == "Original"
    latest = api.get(f"/api/v1/customers/{customer.pk}/history/").json()["results"][0]
    assert latest["reason"] == "reverted"


def test_revert_that_would_break_a_rule_is_a_409(api, records):
    customer = records.customer(email="first@example.com")
    records._run(actions.update_customer, customer, email="second@example.com")
    records.customer(email="first@example.com")
    first = api.get(f"/api/v1/customers/{customer.pk}/history/").json()["results"][-1]
    error = error_of(api.post(f"/api/v1/customers/{customer.pk}/history/{first['history_id']}/revert/"), 409)
    assert error["code"] == "revert_conflict"
    with activate(records.tenant):
        assert Customer.objects.get(pk=customer.pk).email == "second@example.com"


def test_revert_to_another_records_version_is_404(api, records, other_records):
    mine = records.customer()
    other = records.customer()
    theirs = other_records.customer()
    for version_of in (other, theirs):
        with activate(version_of.tenant):
            history_id = version_of.history.first().history_id
        error_of(api.post(f"/api/v1/customers/{mine.pk}/history/{history_id}/revert/"), 404)
    error_of(api.post(f"/api/v1/customers/{mine.pk}/history/{2**62}/revert/"), 404)


def test_revert_needs_the_change_right(api_as, records):
    viewer = api_as("viewer")
    customer = records.customer()
    with activate(records.tenant):
        history_id = customer.history.first().history_id
    assert viewer.get(f"/api/v1/customers/{customer.pk}/history/").status_code == 200
    error_of(viewer.post(f"/api/v1/customers/{customer.pk}/history/{history_id}/revert/"), 403)


def test_revert_to_a_version_whose_customer_is_in_the_bin_is_a_409(api, records):
    from customers.models import Contact

    first, second = records.customer(), records.customer()
    contact = records.contact(first)
    records._run(actions.update_contact, contact, customer=second)
    with activate(records.tenant, user=records.actor):
        Customer.objects.filter(pk=first.pk).delete()
        original = contact.history.order_by("history_date").first().history_id
    error = error_of(api.post(f"/api/v1/contacts/{contact.pk}/history/{original}/revert/"), 409)
    assert error["code"] == "revert_conflict" and "customer" in error["fields"]
    with activate(records.tenant):
        assert Contact.objects.get(pk=contact.pk).customer_id == second.pk


def test_revert_to_an_owner_who_left_is_a_409(api, records, tenant):
    from crm.tenancy.models import Membership
    from tests.factories import make_member

    leaver = make_member(tenant, role="rep")
    customer = records.customer(owner=leaver)
    records._run(actions.update_customer, customer, owner=records.actor)
    Membership.objects.filter(tenant=tenant, user=leaver).delete()
    with activate(records.tenant):
        original = customer.history.order_by("history_date").first().history_id
    error = error_of(api.post(f"/api/v1/customers/{customer.pk}/history/{original}/revert/"), 409)
    assert "owner" in error["fields"]
