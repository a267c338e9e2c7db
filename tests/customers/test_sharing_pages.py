"""Sharing a customer with a colleague: the customer page's Sharing card, the list's badge and filter, the API."""

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from crm.tenancy.context import activate
from customers.actions import share_customer
from customers.models import CustomerShare
from tests.api.conftest import error_of, token_client
from tests.conftest import login
from tests.factories import make_member
from tests.trail import Trail


@pytest.fixture
def owner(tenant):
    return make_member(tenant, "owner-rep", role="rep")


@pytest.fixture
def colleague(tenant):
    return make_member(tenant, "other-rep", role="rep")


@pytest.fixture
def customer(records, owner):
    return records.customer(name="Initech", owner=owner)


def shared_with(tenant, customer):
    with activate(tenant):
        return set(CustomerShare.objects.filter(customer=customer).values_list("user_id", flat=True))


def share_event(trail):
    return [(event.action, event.object_id, event.detail) for event in trail.event_objects]


@pytest.mark.parametrize("role", ["owner", "manager", "admin"])
def test_owner_manager_and_admin_share_from_the_customer_page(role, tenant, customer, owner, colleague):
    sharer = owner if role == "owner" else make_member(tenant, f"{role}-x", role=role)
    client = login(sharer)
    page = client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert 'data-testid="share-form"' in page and f'value="{colleague.pk}"' in page
    assert f'value="{owner.pk}"' not in page.split('data-testid="share-form"')[1]  # not the owner
    with Trail(tenant) as trail:
        response = client.post(reverse("customers:share", args=[customer.pk]), {"user": colleague.pk}, follow=True)
    assert "other-rep can now see this customer." in response.content.decode()
    assert shared_with(tenant, customer) == {colleague.pk}
    assert share_event(trail) == [("share", str(customer.pk), {"user_id": colleague.pk})]
    with activate(tenant):
        assert CustomerShare.history.filter(customer_id=customer.pk, history_type="+").count() == 1


def test_the_share_shows_on_the_page_and_ends_with_its_button(tenant, customer, owner, colleague):
    with activate(tenant):
        share_customer(customer, colleague, acting_user=None)
    client = login(owner)
    page = client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert f'data-testid="share-row" data-user="{colleague.pk}"' in page
    with Trail(tenant) as trail:
        response = client.post(reverse("customers:unshare", args=[customer.pk, colleague.pk]), follow=True)
    assert "This customer is no longer shared with other-rep." in response.content.decode()
    assert shared_with(tenant, customer) == set()
    assert share_event(trail) == [("unshare", str(customer.pk), {"user_id": colleague.pk})]


def test_a_rep_who_does_not_own_it_sees_no_form_and_is_refused(tenant, customer, colleague):
    third = make_member(tenant, "third-rep", role="rep")
    with activate(tenant):
        share_customer(customer, colleague, acting_user=None)
    client = login(colleague)  # sees it (shared) but does not own it
    page = client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert 'data-testid="share-form"' not in page and 'data-testid="share-end"' not in page
    with Trail(tenant) as trail:
        share = client.post(reverse("customers:share", args=[customer.pk]), {"user": third.pk})
        end = client.post(reverse("customers:unshare", args=[customer.pk, colleague.pk]))
    assert (share.status_code, end.status_code) == (403, 403)
    assert shared_with(tenant, customer) == {colleague.pk}
    assert trail.events == []


def test_a_customer_the_rep_cannot_see_is_a_404(tenant, customer, colleague):
    client = login(colleague)
    assert client.post(reverse("customers:share", args=[customer.pk]), {"user": colleague.pk}).status_code == 404


def test_bad_choices_are_messages_not_errors(tenant, customer, owner, other_tenant):
    stranger = make_member(other_tenant, "stranger", role="rep")
    client = login(owner)
    url = reverse("customers:share", args=[customer.pk])
    for data, message in [
        ({"user": stranger.pk}, "Choose a member of this company."),
        ({"user": "x"}, "Choose a member of this company."),
        ({}, "Choose a member of this company."),
        ({"user": owner.pk}, "The owner already sees this customer."),
    ]:
        response = client.post(url, data, follow=True)
        assert response.status_code == 200 and message in response.content.decode()
    assert shared_with(tenant, customer) == set()


def test_the_list_marks_and_filters_the_customers_shared_with_me(tenant, records, owner, colleague):
    mine = records.customer(name="Mine", owner=colleague)
    shared = records.customer(name="Shared", owner=owner)
    records.customer(name="Hidden", owner=owner)
    with activate(tenant):
        share_customer(shared, colleague, acting_user=None)
    client = login(colleague)
    page = client.get(reverse("customers:list")).content.decode()
    rows = dict(zip(("Mine", "Shared"), page.split('data-testid="customer-row"')[1:], strict=True))
    assert 'data-testid="shared-with-me"' in rows["Shared"] and 'data-testid="shared-with-me"' not in rows["Mine"]
    assert "Hidden" not in page
    filtered = client.get(reverse("customers:list"), {"shared": "me"}).content.decode()
    assert "Shared" in filtered and f'data-pk="{mine.pk}"' not in filtered
    assert 'value="me" selected' in filtered


def test_an_unknown_shared_filter_value_is_a_form_error(records, admin_user):
    response = login(admin_user).get(reverse("customers:list"), {"shared": "everyone"})
    assert response.status_code == 200 and 'data-testid="empty-state"' in response.content.decode()


# -- the API ---------------------------------------------------------------------------------------------


def test_api_lists_creates_and_ends_shares(tenant, customer, owner, colleague):
    api = token_client(tenant, owner)
    url = f"/api/v1/customers/{customer.pk}/shares/"
    assert api.get(url).json() == []
    with Trail(tenant) as trail:
        created = api.post(url, {"user": colleague.pk}, format="json")
    assert created.status_code == 201 and created.json() == {"user": colleague.pk, "name": "other-rep"}
    assert api.get(url).json() == [{"user": colleague.pk, "name": "other-rep"}]
    assert [event[0] for event in share_event(trail)] == [AuditEvent.Action.SHARE]
    assert api.delete(f"{url}{colleague.pk}/").status_code == 204
    assert shared_with(tenant, customer) == set()
    error_of(api.delete(f"{url}{colleague.pk}/"), 404)


def test_api_refuses_reps_who_do_not_own_it_and_strangers(tenant, customer, colleague, other_tenant):
    with activate(tenant):
        share_customer(customer, colleague, acting_user=None)
    third = make_member(tenant, "third-rep", role="rep")
    url = f"/api/v1/customers/{customer.pk}/shares/"
    error_of(token_client(tenant, colleague).post(url, {"user": third.pk}, format="json"), 403)
    error_of(token_client(tenant, third).get(url), 404)  # not visible to them
    outsider = make_member(other_tenant, "outsider", role="admin")
    error_of(token_client(other_tenant, outsider).get(url), 404)
    error_of(token_client(tenant, colleague).delete(f"{url}{colleague.pk}/"), 403)
    fields = error_of(token_client(tenant, make_member(tenant, "boss", role="admin")).post(url, {}, format="json"), 400)
    assert "user" in fields["fields"]
