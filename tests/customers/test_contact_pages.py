"""Contact list, detail and forms, and adding a contact on the customer page."""

import itertools

import pytest
from django.urls import reverse

from customers.models import Contact
from tests.conftest import login
from tests.contracts import RecordPagesContract
from tests.factories import make_member

_n = itertools.count(1)
HTMX = {"HX-Request": "true"}


class TestContactPages(RecordPagesContract):
    record_type = "contact"
    list_url = "customers:contact_list"
    detail_url = "customers:contact_detail"
    create_url = "customers:contact_create"
    edit_url = "customers:contact_edit"
    text_field = "name"
    kept_field = "title"
    # The create page belongs to a customer (the admin's, below): a rep may add
    # contacts only to their own and shared customers (tested separately).
    roles_that_add = ("admin", "manager")
    create_refusals = {"rep": 404}  # the admin's customer is not visible to a rep

    def create_url_args(self, records):
        return [records.customer().pk]

    def valid_data(self, records):
        n = next(_n)
        return {
            "customer": records.customer().pk,  # used when editing; the URL decides when creating
            "name": f"Dana Scully {n}",
            "title": "Special agent",
            "email": f"dana{n}@example.com",
            "phone": "+1 202 555 0100",
        }


@pytest.fixture
def rep(tenant):
    return make_member(tenant, "rep-one", role="rep")


# -- adding a contact on the customer page ------------------------------------------------------------------


def test_add_contact_with_htmx_returns_the_updated_section(records, admin_user):
    customer = records.customer()
    records.contact(customer, name="Existing Person")
    response = login(admin_user).post(
        reverse("customers:contact_create", args=[customer.pk]),
        {"name": "New Person", "title": "CTO", "email": "new@example.com", "phone": ""},
        headers=HTMX,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="contacts"')
    assert "Existing Person" in html and "New Person" in html
    assert 'hx-swap-oob="true"' in html and "Added contact New Person." in html
    assert "<html" not in html  # a fragment, not a page
    contact = Contact.all_objects.get(name="New Person")
    assert (contact.customer, contact.title, contact.tenant) == (customer, "CTO", records.tenant)


def test_add_contact_with_htmx_and_bad_input_returns_the_form_with_errors(records, admin_user):
    customer = records.customer()
    response = login(admin_user).post(
        reverse("customers:contact_create", args=[customer.pk]),
        {"name": "", "title": "Kept title", "email": "not-an-email"},
        headers=HTMX,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "<details open" in html
    assert "This field is required." in html and "Enter a valid email address." in html
    assert 'value="Kept title"' in html and 'value="not-an-email"' in html
    assert not Contact.all_objects.filter(customer=customer).exists()


def test_add_contact_without_javascript_redirects_to_the_customer(records, admin_user):
    customer = records.customer()
    client = login(admin_user)
    response = client.post(reverse("customers:contact_create", args=[customer.pk]), {"name": "Plain Post"})
    assert response.status_code == 302
    assert response["Location"] == reverse("customers:detail", args=[customer.pk]) + "#contacts"
    page = client.get(response["Location"]).content.decode()
    assert "Plain Post" in page and "Added contact Plain Post." in page


def test_the_customer_page_has_an_add_contact_form_that_works_both_ways(records, admin_user):
    customer = records.customer()
    page = login(admin_user).get(reverse("customers:detail", args=[customer.pk])).content.decode()
    url = reverse("customers:contact_create", args=[customer.pk])
    assert f'action="{url}" hx-post="{url}" hx-target="#contacts"' in page
    assert 'data-testid="add-contact-form"' in page


def test_a_rep_adds_contacts_to_own_customers_only(records, rep):
    own = records.customer(owner=rep)
    theirs = records.customer()
    client = login(rep)
    assert client.get(reverse("customers:contact_create", args=[own.pk])).status_code == 200
    assert client.post(reverse("customers:contact_create", args=[own.pk]), {"name": "Mine"}).status_code == 302
    assert client.get(reverse("customers:contact_create", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("customers:contact_create", args=[theirs.pk]), {"name": "Sneaky"}).status_code == 404
    assert not Contact.all_objects.filter(name="Sneaky").exists()


@pytest.mark.parametrize("role", ["support", "viewer"])
def test_read_only_roles_cannot_add_contacts(role, records, member_client):
    customer = records.customer()
    client = member_client(role)
    url = reverse("customers:contact_create", args=[customer.pk])
    assert client.post(url, {"name": "Nope"}, headers=HTMX).status_code == 403
    assert not Contact.all_objects.filter(name="Nope").exists()


def test_adding_a_contact_to_another_tenants_customer_is_not_found(records, other_records, admin_user):
    theirs = other_records.customer()
    url = reverse("customers:contact_create", args=[theirs.pk])
    assert login(admin_user).post(url, {"name": "Cross"}).status_code == 404
    assert not Contact.all_objects.filter(name="Cross").exists()


# -- editing ----------------------------------------------------------------------------------------------------


def test_editing_offers_only_customers_the_user_may_change(records, rep):
    own = records.customer(name="Own customer", owner=rep)
    other = records.customer(name="Someone else's customer")
    contact = records.contact(own)
    client = login(rep)
    page = client.get(reverse("customers:contact_edit", args=[contact.pk])).content.decode()
    assert "Own customer" in page and "Someone else&#x27;s customer" not in page
    response = client.post(reverse("customers:contact_edit", args=[contact.pk]), {"customer": other.pk, "name": "X"})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    contact.refresh_from_db()
    assert contact.customer == own


def test_a_contact_can_move_to_another_customer(records, admin_user):
    old, new = records.customer(), records.customer()
    contact = records.contact(old, name="Mover")
    response = login(admin_user).post(
        reverse("customers:contact_edit", args=[contact.pk]), {"customer": new.pk, "name": "Mover"}
    )
    assert response["Location"] == reverse("customers:contact_detail", args=[contact.pk])
    contact.refresh_from_db()
    assert contact.customer == new


def test_a_rep_cannot_edit_another_reps_contact(records, rep):
    contact = records.contact(records.customer(), name="Untouchable")
    client = login(rep)
    assert client.get(reverse("customers:contact_detail", args=[contact.pk])).status_code == 404
    assert client.post(reverse("customers:contact_edit", args=[contact.pk]), {"name": "Touched"}).status_code == 404
    contact.refresh_from_db()
    assert contact.name == "Untouchable"


# -- list and detail ------------------------------------------------------------------------------------------


def test_the_list_searches_and_narrows_to_one_customer(records, admin_user):
    acme, globex = records.customer(name="Acme"), records.customer(name="Globex")
    records.contact(acme, name="Wile Coyote", title="Engineer")
    records.contact(globex, name="Hank Scorpio", email="hank@globex.example")
    client = login(admin_user)
    url = reverse("customers:contact_list")
    page = client.get(url, {"q": "ENGINEER"}).content.decode()
    assert "Wile Coyote" in page and "Hank Scorpio" not in page
    page = client.get(url, {"q": "globex"}).content.decode()  # customer name or email
    assert "Hank Scorpio" in page and "Wile Coyote" not in page
    page = client.get(url, {"customer": acme.pk}).content.decode()
    assert "Wile Coyote" in page and "Hank Scorpio" not in page
    assert 'data-testid="filter-customer"' in page and 'name="customer"' in page


def test_the_list_cannot_be_narrowed_to_an_invisible_customer(records, admin_user, rep):
    theirs = records.customer()
    records.contact(theirs, name="Hidden Contact")
    page = login(rep).get(reverse("customers:contact_list"), {"customer": theirs.pk}).content.decode()
    assert "Hidden Contact" not in page


def test_the_list_sorts_by_customer(records, admin_user):
    records.contact(records.customer(name="Zeta"), name="Aaron")
    records.contact(records.customer(name="Alpha"), name="Zed")
    page = login(admin_user).get(reverse("customers:contact_list"), {"sort": "customer"}).content.decode()
    assert page.index("Zed") < page.index("Aaron")


def test_the_detail_page_shows_the_contacts_interactions(records, admin_user):
    customer = records.customer(name="Acme")
    contact = records.contact(customer, name="Wile Coyote", email="wile@acme.example")
    records.interaction(customer, contact=contact, summary="Ordered rockets.")
    records.interaction(customer, summary="Unrelated note.")
    page = login(admin_user).get(reverse("customers:contact_detail", args=[contact.pk])).content.decode()
    assert "wile@acme.example" in page and "Acme" in page
    assert "Ordered rockets." in page and "Unrelated note." not in page
    assert reverse("customers:interaction_create", args=[customer.pk]) + f"?contact={contact.pk}" in page


def test_a_viewer_sees_no_edit_links_on_contacts(records, member_client):
    contact = records.contact()
    client = member_client("viewer")
    page = client.get(reverse("customers:contact_detail", args=[contact.pk])).content.decode()
    assert reverse("customers:contact_edit", args=[contact.pk]) not in page
    page = client.get(reverse("customers:contact_list")).content.decode()
    assert reverse("customers:contact_edit", args=[contact.pk]) not in page
