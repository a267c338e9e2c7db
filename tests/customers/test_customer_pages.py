"""Customer list, detail, forms and bulk actions in the browser."""

import itertools
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crm.tenancy.context import activate
from customers.actions import share_customer
from customers.models import Customer
from tests.conftest import login
from tests.contracts import RecordPagesContract
from tests.factories import make_member

_n = itertools.count(1)


class TestCustomerPages(RecordPagesContract):
    record_type = "customer"
    list_url = "customers:list"
    detail_url = "customers:detail"
    create_url = "customers:create"
    edit_url = "customers:edit"
    text_field = "name"
    kept_field = "notes"

    def valid_data(self, records):
        n = next(_n)
        return {
            "kind": "company",
            "name": f"Globex {n}",
            "email": f"globex{n}@example.com",
            "phone": "+1 555 0100",
            "website": "https://globex.example",
            "industry": "Energy",
            "tier": "B",
            "status": "active",
            "owner": records.actor.pk,
            "tags": "vip, export",
            "address": "1 Main St",
            "notes": "Met at the fair.",
        }


def names_in(response):
    """The customer names of the list's rows, in order."""
    html = response.content.decode()
    rows = re.findall(r'data-testid="customer-row".*?</tr>', html, flags=re.S)
    return [re.search(r'class="fw-semibold[^"]*" href="[^"]+">([^<]+)</a>', row).group(1) for row in rows]


def customer_updates(queries):
    return [q["sql"] for q in queries.captured_queries if q["sql"].startswith('UPDATE "customers_customer"')]


@pytest.fixture
def rep(tenant):
    return make_member(tenant, "rep-one", role="rep")


@pytest.fixture
def rep2(tenant):
    return make_member(tenant, "rep-two", role="rep")


# -- list: search, filters, sorting, pagination -----------------------------------------------------------------


def test_search_matches_name_email_and_phone_case_insensitively(records, admin_user):
    records.customer(name="Initech", email="hello@initech.example", phone="+1 555 0199")
    records.customer(name="Umbrella", email="info@umbrella.example", phone="+44 20 0000")
    client = login(admin_user)
    url = reverse("customers:list")
    assert names_in(client.get(url, {"q": "iNiTe"})) == ["Initech"]
    assert names_in(client.get(url, {"q": "UMBRELLA.example"})) == ["Umbrella"]
    assert names_in(client.get(url, {"q": "555 0199"})) == ["Initech"]
    assert names_in(client.get(url, {"q": "nobody"})) == []
    assert 'data-testid="empty-state"' in client.get(url, {"q": "nobody"}).content.decode()


def test_filters_by_owner_tier_status_and_tag(tenant, records, admin_user, rep):
    records.customer(name="Alpha", owner=rep, tier="A", status="active", tags=["vip"])
    records.customer(name="Bravo", owner=admin_user, tier="B", status="lead", tags=["export", "vip"])
    records.customer(name="Charlie", owner=None, tier="C", status="churned", tags=[])
    client = login(admin_user)
    url = reverse("customers:list")
    assert names_in(client.get(url, {"owner": rep.pk})) == ["Alpha"]
    assert names_in(client.get(url, {"owner": "null"})) == ["Charlie"]
    assert names_in(client.get(url, {"tier": "B"})) == ["Bravo"]
    assert names_in(client.get(url, {"status": "churned"})) == ["Charlie"]
    assert names_in(client.get(url, {"tag": "vip"})) == ["Alpha", "Bravo"]
    assert names_in(client.get(url, {"tag": "export", "tier": "A"})) == []


def test_an_owner_from_another_tenant_is_not_a_valid_filter(records, other_records, admin_user):
    records.customer(name="Alpha")
    response = login(admin_user).get(reverse("customers:list"), {"owner": other_records.actor.pk})
    assert response.status_code == 200
    assert names_in(response) == []


# Bravo: tier A, active, zoe, first; Alpha: tier C, churned, zoe, second; Charlie: tier B, lead, aaron, third.
@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("name", ["Alpha", "Bravo", "Charlie"]),
        ("-name", ["Charlie", "Bravo", "Alpha"]),
        ("tier", ["Bravo", "Charlie", "Alpha"]),
        ("-tier", ["Alpha", "Charlie", "Bravo"]),
        ("status", ["Bravo", "Alpha", "Charlie"]),
        ("-status", ["Charlie", "Alpha", "Bravo"]),
        ("owner", ["Charlie", "Bravo", "Alpha"]),
        ("created", ["Bravo", "Alpha", "Charlie"]),
        ("-created", ["Charlie", "Alpha", "Bravo"]),
        ("nonsense", ["Alpha", "Bravo", "Charlie"]),
    ],
)
def test_sorting(sort, expected, tenant, records, admin_user):
    aaron = make_member(tenant, "aaron", role="rep")
    zoe = make_member(tenant, "zoe", role="rep")
    records.customer(name="Bravo", tier="A", status="active", owner=zoe)
    records.customer(name="Alpha", tier="C", status="churned", owner=zoe)
    records.customer(name="Charlie", tier="B", status="lead", owner=aaron)
    response = login(admin_user).get(reverse("customers:list"), {"sort": sort})
    assert names_in(response) == expected


def test_pagination_and_page_size(records, admin_user):
    for letter in "ABCDE":
        records.customer(name=f"Customer {letter}")
    client = login(admin_user)
    url = reverse("customers:list")
    first = client.get(url, {"page_size": 2, "sort": "name"})
    assert names_in(first) == ["Customer A", "Customer B"]
    page = first.content.decode()
    assert "Page 1 of 3" in page
    assert "page=2" in page and "page_size=2" in page  # the next link keeps the other parameters
    assert names_in(client.get(url, {"page_size": 2, "sort": "name", "page": 3})) == ["Customer E"]
    assert names_in(client.get(url, {"page_size": 2, "sort": "name", "page": 9})) == ["Customer E"]  # the last page
    assert len(names_in(client.get(url, {"page_size": 1000}))) == 5  # capped, not an error


def test_sort_links_keep_the_filters(records, admin_user):
    records.customer(name="Alpha", tier="A")
    page = login(admin_user).get(reverse("customers:list"), {"tier": "A"}).content.decode()
    assert "tier=A&amp;sort=name" in page


def test_a_rep_lists_only_own_and_shared_customers(tenant, records, rep, rep2):
    records.customer(name="Mine", owner=rep)
    shared = records.customer(name="Shared", owner=rep2)
    records.customer(name="Theirs", owner=rep2)
    with activate(tenant):
        share_customer(shared, rep, acting_user=None)
    assert names_in(login(rep).get(reverse("customers:list"))) == ["Mine", "Shared"]


# -- bulk actions ---------------------------------------------------------------------------------------------


def test_bulk_assign_owner_changes_only_permitted_rows_in_one_update(tenant, records, rep, rep2):
    mine = records.customer(name="Mine", owner=rep)
    shared = records.customer(name="Shared", owner=rep2)
    theirs = records.customer(name="Theirs", owner=rep2)
    with activate(tenant):
        share_customer(shared, rep, acting_user=None)
    client = login(rep)
    data = {"action": "assign_owner", "owner": rep.pk, "ids": [mine.pk, shared.pk, theirs.pk]}
    with CaptureQueriesContext(connection) as queries:
        response = client.post(reverse("customers:bulk"), data, follow=True)
    assert len(customer_updates(queries)) == 1
    page = response.content.decode()
    assert "Assigned 1 customer to rep-one." in page
    assert "2 selected customers were left as they were" in page
    for customer in (mine, shared, theirs):
        customer.refresh_from_db()
    assert (mine.owner, shared.owner, theirs.owner) == (rep, rep, rep2)


def test_bulk_assign_owner_as_manager(tenant, records, rep):
    manager = make_member(tenant, "boss", role="manager")
    first, second = records.customer(), records.customer()
    untouched = records.customer()
    client = login(manager)
    back = reverse("customers:list") + "?tier=C&sort=-name"
    response = client.post(
        reverse("customers:bulk"),
        {"action": "assign_owner", "owner": rep.pk, "ids": [first.pk, second.pk], "next": back},
    )
    assert response.status_code == 302 and response["Location"] == back
    with activate(tenant):
        assert set(Customer.objects.filter(owner=rep).values_list("pk", flat=True)) == {first.pk, second.pk}
    untouched.refresh_from_db()
    assert untouched.owner == records.actor


def test_bulk_add_tag_in_one_update_and_idempotent(records, admin_user):
    tagged = records.customer(name="Tagged", tags=["vip"])
    plain = records.customer(name="Plain", tags=["export"])
    client = login(admin_user)
    with CaptureQueriesContext(connection) as queries:
        response = client.post(
            reverse("customers:bulk"), {"action": "add_tag", "tag": " vip ", "ids": [tagged.pk, plain.pk]}, follow=True
        )
    assert len(customer_updates(queries)) == 1
    assert "Tagged 1 customer “vip”." in response.content.decode()
    tagged.refresh_from_db()
    plain.refresh_from_db()
    assert tagged.tags == ["vip"]
    assert plain.tags == ["export", "vip"]


@pytest.mark.parametrize("role", ["support", "viewer"])
def test_bulk_actions_are_forbidden_to_read_only_roles(role, records, member_client):
    customer = records.customer(tags=[])
    client = member_client(role)
    response = client.post(reverse("customers:bulk"), {"action": "add_tag", "tag": "x", "ids": [customer.pk]})
    assert response.status_code == 403
    customer.refresh_from_db()
    assert customer.tags == []


def test_bulk_actions_ignore_other_tenants_rows(records, other_records, admin_user):
    theirs = other_records.customer(tags=[])
    response = login(admin_user).post(
        reverse("customers:bulk"), {"action": "add_tag", "tag": "x", "ids": [theirs.pk]}, follow=True
    )
    assert "Nothing changed" in response.content.decode()
    theirs.refresh_from_db()
    assert theirs.tags == []


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"action": "assign_owner", "owner": ""}, "Choose the new owner."),
        ({"action": "add_tag", "tag": ""}, "Type the tag to add."),
        ({"action": "add_tag", "tag": "x" * 51}, "at most 50 characters"),
        ({"action": "delete"}, "Select a valid choice."),
        ({"action": "add_tag", "tag": "x", "ids": ["abc"]}, "Select records from the list."),
        ({"action": "add_tag", "tag": "x", "ids": []}, "Select at least one record."),
    ],
)
def test_bulk_input_errors_are_messages(data, message, records, admin_user):
    customer = records.customer(tags=[])
    data = {"ids": [customer.pk], **data}
    response = login(admin_user).post(reverse("customers:bulk"), data, follow=True)
    assert response.status_code == 200
    assert message in response.content.decode()
    customer.refresh_from_db()
    assert customer.tags == []


def test_bulk_redirect_does_not_leave_the_site(records, admin_user):
    customer = records.customer()
    response = login(admin_user).post(
        reverse("customers:bulk"),
        {"action": "add_tag", "tag": "x", "ids": [customer.pk], "next": "https://evil.example/"},
    )
    assert response["Location"] == reverse("customers:list")


def test_the_list_offers_selection_and_bulk_bar_only_to_those_who_may_change(records, admin_user, member_client):
    records.customer()
    page = login(admin_user).get(reverse("customers:list")).content.decode()
    assert 'data-select-all="ids"' in page and 'data-testid="bulk-bar"' in page and 'name="ids"' in page
    viewer_page = member_client("viewer").get(reverse("customers:list")).content.decode()
    assert 'data-testid="bulk-bar"' not in viewer_page and 'name="ids"' not in viewer_page
    assert reverse("customers:create") not in viewer_page


# -- forms ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["TAKEN@example.com", "taken@EXAMPLE.com"])
def test_a_duplicate_email_in_any_case_is_a_form_error(typed, records, admin_user):
    records.customer(name="First", email="taken@example.com")
    data = {**TestCustomerPages().valid_data(records), "email": typed}
    response = login(admin_user).post(reverse("customers:create"), data)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Another customer already uses this email address." in page
    assert f'value="{typed}"' in page
    assert Customer.all_objects.filter(email__iexact="taken@example.com").count() == 1


def test_editing_keeps_its_own_email_but_cannot_take_anothers(records, admin_user):
    first = records.customer(name="First", email="first@example.com")
    records.customer(name="Second", email="second@example.com")
    client = login(admin_user)
    data = {**TestCustomerPages().valid_data(records), "name": "First", "email": "FIRST@example.com"}
    assert client.post(reverse("customers:edit", args=[first.pk]), data).status_code == 302
    response = client.post(reverse("customers:edit", args=[first.pk]), {**data, "email": "Second@Example.com"})
    assert response.status_code == 200
    assert "Another customer already uses this email address." in response.content.decode()
    first.refresh_from_db()
    assert first.email == "FIRST@example.com"


def test_the_same_email_in_another_tenant_is_fine(records, other_records, admin_user):
    other_records.customer(email="shared@example.com")
    data = {**TestCustomerPages().valid_data(records), "email": "shared@example.com"}
    assert login(admin_user).post(reverse("customers:create"), data).status_code == 302


def test_created_customer_keeps_tags_and_owner(records, admin_user, rep):
    data = {**TestCustomerPages().valid_data(records), "owner": rep.pk, "tags": "vip，重点客户, vip"}
    response = login(admin_user).post(reverse("customers:create"), data)
    customer = Customer.all_objects.get(name=data["name"])
    assert response["Location"] == reverse("customers:detail", args=[customer.pk])
    assert customer.owner == rep
    assert customer.tags == ["vip", "重点客户"]


def test_a_tag_with_a_nul_byte_is_a_form_error(records, admin_user):
    data = {**TestCustomerPages().valid_data(records), "tags": "ok, bad\x00tag"}
    response = login(admin_user).post(reverse("customers:create"), data)
    assert response.status_code == 200
    assert "Null characters are not allowed" in response.content.decode()


def test_a_rep_creates_customers_owned_by_themselves_by_default(rep):
    client = login(rep)
    page = client.get(reverse("customers:create")).content.decode()
    assert re.search(rf'<option value="{rep.pk}" selected>', page)


def test_a_rep_who_gives_a_customer_away_goes_back_to_the_list(records, rep, rep2):
    customer = records.customer(name="Handover", owner=rep)
    data = {**TestCustomerPages().valid_data(records), "name": "Handover", "owner": rep2.pk}
    response = login(rep).post(reverse("customers:edit", args=[customer.pk]), data, follow=True)
    assert response.redirect_chain[-1][0] == reverse("customers:list")
    assert "Handover now belongs to someone else." in response.content.decode()


def test_the_edit_page_shows_the_saved_name_when_the_input_is_rejected(records, admin_user):
    customer = records.customer(name="Saved name")
    data = {**TestCustomerPages().valid_data(records), "name": "Typed name", "email": "not-an-email"}
    page = login(admin_user).post(reverse("customers:edit", args=[customer.pk]), data).content.decode()
    assert "Edit Saved name" in page
    assert 'value="Typed name"' in page


# -- permissions ----------------------------------------------------------------------------------------------


def test_a_rep_cannot_see_or_edit_another_reps_customer(records, rep, rep2):
    theirs = records.customer(name="Not yours", owner=rep2)
    client = login(rep)
    assert client.get(reverse("customers:detail", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("customers:edit", args=[theirs.pk])).status_code == 404
    data = {**TestCustomerPages().valid_data(records), "name": "Hijacked"}
    assert client.post(reverse("customers:edit", args=[theirs.pk]), data).status_code == 404
    theirs.refresh_from_db()
    assert theirs.name == "Not yours"
    assert "Not yours" not in client.get(reverse("customers:list")).content.decode()


def test_a_rep_edits_own_and_shared_customers(tenant, records, rep, rep2):
    own = records.customer(owner=rep)
    shared = records.customer(owner=rep2)
    with activate(tenant):
        share_customer(shared, rep, acting_user=None)
    client = login(rep)
    for customer in (own, shared):
        assert client.get(reverse("customers:edit", args=[customer.pk])).status_code == 200


def test_support_cannot_create_customers(member_client, records):
    client = member_client("support")
    assert client.get(reverse("customers:create")).status_code == 403
    data = TestCustomerPages().valid_data(records)
    assert client.post(reverse("customers:create"), data).status_code == 403
    assert not Customer.all_objects.filter(name=data["name"]).exists()
    assert reverse("customers:create") not in client.get(reverse("customers:list")).content.decode()


def test_support_reads_customers(records, member_client):
    customer = records.customer(name="Readable")
    client = member_client("support")
    assert "Readable" in client.get(reverse("customers:list")).content.decode()
    assert client.get(reverse("customers:detail", args=[customer.pk])).status_code == 200


def test_a_viewer_sees_no_write_controls_on_the_detail_page(records, member_client):
    customer = records.customer()
    records.contact(customer)
    records.interaction(customer)
    page = member_client("viewer").get(reverse("customers:detail", args=[customer.pk])).content.decode()
    for marker in (
        reverse("customers:edit", args=[customer.pk]),
        'data-testid="log-interaction-form"',
        'data-testid="add-contact-form"',
        'data-testid="contact-edit"',
        'data-testid="interaction-edit"',
    ):
        assert marker not in page


def test_the_owner_sees_every_write_control(records, admin_user):
    customer = records.customer()
    records.contact(customer)
    records.interaction(customer)
    page = login(admin_user).get(reverse("customers:detail", args=[customer.pk])).content.decode()
    for marker in (
        reverse("customers:edit", args=[customer.pk]),
        'data-testid="log-interaction-form"',
        'data-testid="add-contact-form"',
        'data-testid="contact-edit"',
        'data-testid="interaction-edit"',
    ):
        assert marker in page


def test_signed_out_visitors_go_to_the_login_page(records):
    from django.test import Client

    customer = records.customer()
    for url in (
        reverse("customers:list"),
        reverse("customers:detail", args=[customer.pk]),
        reverse("customers:create"),
        reverse("customers:edit", args=[customer.pk]),
    ):
        response = Client().get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert Client().post(reverse("customers:bulk"), {}).status_code == 302


# -- the detail page ------------------------------------------------------------------------------------------


def test_detail_shows_fields_owner_tags_and_related_records(records, admin_user):
    customer = records.customer(
        name="Initech", phone="+1 555 0199", tags=["vip", "export"], industry="Software", notes="Likes staplers."
    )
    records.contact(customer, name="Peter Gibbons")
    records.interaction(customer, summary="Discussed TPS reports.")
    records.opportunity(customer, name="Stapler refresh")
    records.ticket(customer, subject="Printer jams")
    page = login(admin_user).get(reverse("customers:detail", args=[customer.pk])).content.decode()
    for text in (
        "Initech",
        "+1 555 0199",
        "Software",
        "Likes staplers.",
        f'data-testid="customer-owner">{admin_user.username}',
        ">vip<",
        ">export<",
        "Peter Gibbons",
        "Discussed TPS reports.",
        "Stapler refresh",
        "Printer jams",
        'id="contacts"',
        'id="timeline"',
    ):
        assert text in page, text


def test_support_does_not_see_opportunities_on_the_detail_page(records, member_client):
    customer = records.customer()
    records.opportunity(customer, name="Secret deal")
    records.ticket(customer, subject="Visible ticket")
    page = member_client("support").get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert "Secret deal" not in page and 'data-testid="opportunities-section"' not in page
    assert "Visible ticket" in page


def test_detail_shows_empty_states(records, admin_user):
    customer = records.customer()
    page = login(admin_user).get(reverse("customers:detail", args=[customer.pk])).content.decode()
    for marker in ("contacts-empty", "timeline-empty", "opportunities-empty", "tickets-empty"):
        assert f'data-testid="{marker}"' in page


def test_detail_runs_a_constant_number_of_queries_as_related_rows_grow(records, admin_user):
    customer = records.customer()
    client = login(admin_user)

    def add_related():
        contact = records.contact(customer)
        records.interaction(customer, contact=contact)
        records.opportunity(customer)
        records.ticket(customer, assignee=admin_user)

    add_related()
    url = reverse("customers:detail", args=[customer.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    for _ in range(12):
        add_related()
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]


def test_detail_caps_long_related_lists_and_links_to_the_full_list(records, admin_user):
    from customers.views.customers import TIMELINE_SHOWN

    customer = records.customer()
    for n in range(TIMELINE_SHOWN + 1):
        records.interaction(customer, summary=f"Interaction number {n}")
    page = login(admin_user).get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert page.count('data-testid="timeline-item"') == TIMELINE_SHOWN
    assert f"{reverse('customers:interaction_list')}?customer={customer.pk}" in page


def test_the_pages_render_in_chinese(records, admin_user):
    customer = records.customer(name="上海星辰科技有限公司", tags=["重点客户"])
    contact = records.contact(customer, name="王伟")
    interaction = records.interaction(customer, contact=contact, summary="现场拜访")
    client = login(admin_user, language="zh-hans")
    for url in (
        reverse("customers:list"),
        reverse("customers:detail", args=[customer.pk]),
        reverse("customers:edit", args=[customer.pk]),
        reverse("customers:contact_list"),
        reverse("customers:contact_detail", args=[contact.pk]),
        reverse("customers:interaction_list"),
        reverse("customers:interaction_detail", args=[interaction.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert '<html lang="zh-hans">' in response.content.decode()
