"""Two people, one record, in the browser: the second save never silently wins."""

import re

from django.urls import reverse

from customers.models import Customer
from sales.models import Opportunity
from tests.conftest import login
from tests.customers import test_customer_pages as customer_pages
from tests.factories import make_member
from tests.trail import Trail


def form_data(page: str, **typed) -> dict:
    """What the browser would post back from an edit page: its hidden version and the typed values."""
    version = re.search(r'name="version" value="(\d+)"', page)
    assert version, "the edit form carries the version it was loaded with"
    return {"version": version.group(1), **typed}


def test_the_edit_form_carries_the_version_it_was_loaded_with(records, admin_user):
    customer = records.customer()
    page = login(admin_user).get(reverse("customers:edit", args=[customer.pk])).content.decode()
    assert 'type="hidden" name="version" value="1"' in page


def test_saving_over_a_newer_version_shows_what_changed_and_keeps_what_was_typed(records, admin_user, tenant):
    customer = records.customer(name="Acme", phone="+1 555 0100")
    colleague = make_member(tenant, "colleague")
    edit = reverse("customers:edit", args=[customer.pk])
    mine, theirs = login(admin_user), login(colleague)
    data = {**customer_pages.TestCustomerPages().valid_data(records), "name": "Acme", "phone": "+1 555 0100"}
    my_form = form_data(mine.get(edit).content.decode(), **data)
    their_form = form_data(theirs.get(edit).content.decode(), **data)

    assert theirs.post(edit, {**their_form, "phone": "+1 555 0199"}).status_code == 302
    with Trail(tenant) as trail:
        response = mine.post(edit, {**my_form, "phone": "+1 555 0123", "notes": "typed with care"})

    assert response.status_code == 409
    page = response.content.decode()
    assert 'data-testid="version-conflict"' in page
    assert "colleague" in page and "Phone" in page  # who changed what
    assert 'value="+1 555 0123"' in page and "typed with care" in page  # nothing typed is lost
    assert "+1 555 0199" in page  # the value as it is now
    assert 'name="overwrite" value="2"' in page
    assert trail.events == [] and trail.versions == []
    stored = Customer.all_objects.get(pk=customer.pk)
    assert (stored.phone, stored.version) == ("+1 555 0199", 2)


def test_saving_over_consciously_writes_the_typed_values_on_the_version_shown(records, admin_user, tenant):
    customer = records.customer(name="Acme")
    edit = reverse("customers:edit", args=[customer.pk])
    data = {**customer_pages.TestCustomerPages().valid_data(records), "name": "Acme"}
    client = login(admin_user)
    stale = form_data(client.get(edit).content.decode(), **data)
    client.post(edit, {**stale, "phone": "+1 555 0199"})

    response = client.post(edit, {**stale, "phone": "+1 555 0123", "overwrite": "2"})

    assert response.status_code == 302
    stored = Customer.all_objects.get(pk=customer.pk)
    assert (stored.phone, stored.version) == ("+1 555 0123", 3)


def test_an_overwrite_meets_a_conflict_again_when_the_record_moved_on_once_more(records, admin_user):
    customer = records.customer(name="Acme")
    edit = reverse("customers:edit", args=[customer.pk])
    data = {**customer_pages.TestCustomerPages().valid_data(records), "name": "Acme"}
    client = login(admin_user)
    stale = form_data(client.get(edit).content.decode(), **data)
    client.post(edit, {**stale, "phone": "+1 555 0101"})  # version 2
    client.post(edit, {**stale, "phone": "+1 555 0102", "overwrite": "2"})  # version 3

    response = client.post(edit, {**stale, "phone": "+1 555 0103", "overwrite": "2"})

    assert response.status_code == 409
    assert Customer.all_objects.get(pk=customer.pk).phone == "+1 555 0102"


def test_an_opportunity_form_opened_before_a_pipeline_move_does_not_undo_the_move(records, admin_user):
    opportunity = records.opportunity(name="Fleet", stage="lead")
    edit = reverse("sales:edit", args=[opportunity.pk])
    client = login(admin_user)
    page = client.get(edit).content.decode()
    data = {
        "customer": opportunity.customer_id,
        "name": "Fleet",
        "amount": "100",
        "currency": "CNY",
        "stage": "lead",
        "probability": "",
        "expected_close_date": "",
        "owner": admin_user.pk,
        "lost_reason": "",
    }
    client.post(reverse("sales:move", args=[opportunity.pk]), {"stage": "proposal"})

    response = client.post(edit, form_data(page, **{**data, "name": "Fleet renewal"}))

    assert response.status_code == 409
    assert 'value="Fleet renewal"' in response.content.decode()
    assert Opportunity.all_objects.get(pk=opportunity.pk).stage == "proposal"
