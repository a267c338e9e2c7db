"""A member of tenant A gets 404 for every object of tenant B, on every page."""

import pytest
from django.urls import reverse

from tests.conftest import login

DETAIL_PAGES = {
    "customer": lambda obj: reverse("customers:detail", args=[obj.pk]),
    "ticket": lambda obj: reverse("tickets:detail", args=[obj.pk]),
    "opportunity": lambda obj: reverse("sales:detail", args=[obj.pk]),
}


@pytest.mark.parametrize("model_name", sorted(DETAIL_PAGES))
@pytest.mark.parametrize("role", ["admin", "manager", "viewer"])
def test_another_tenants_object_is_not_found(model_name, role, records, other_records, member_client):
    client = member_client(role)
    theirs = other_records.any(model_name)
    mine = records.any(model_name)
    assert client.get(DETAIL_PAGES[model_name](mine)).status_code == 200
    assert client.get(DETAIL_PAGES[model_name](theirs)).status_code == 404


@pytest.mark.parametrize("list_url", ["customers:list", "tickets:list", "sales:list", "sales:board", "dashboard"])
def test_lists_never_show_another_tenants_rows(list_url, records, other_records, member_client):
    customer = other_records.customer(name="Zebra Secret Industries")
    other_records.ticket(customer, subject="Zebra secret ticket")
    other_records.opportunity(customer, name="Zebra secret deal")
    page = member_client("admin").get(reverse(list_url)).content.decode()
    assert "Zebra" not in page


def test_a_user_in_two_tenants_sees_the_one_chosen_in_the_session(records, other_records):
    from tests.factories import make_member

    records.customer(name="Alpha customer")
    other_records.customer(name="Beta customer")
    user = make_member(records.tenant, "dual", role="manager")
    make_member(other_records.tenant, "dual", role="viewer")
    client = login(user)
    first = client.get(reverse("customers:list")).content.decode()
    assert "Alpha customer" in first and "Beta customer" not in first
    client.post(reverse("tenancy:switch"), {"tenant": other_records.tenant.slug})
    second = client.get(reverse("customers:list")).content.decode()
    assert "Beta customer" in second and "Alpha customer" not in second


def test_switching_to_a_tenant_one_is_not_a_member_of_is_refused(records, other_records, member_client):
    client = member_client("admin")
    other_records.customer(name="Beta customer")
    response = client.post(reverse("tenancy:switch"), {"tenant": other_records.tenant.slug}, follow=True)
    assert "not a member" in response.content.decode()
    assert "Beta customer" not in client.get(reverse("customers:list")).content.decode()
