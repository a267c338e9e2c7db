"""Opportunity pages: the generic page contract plus list filters, sorting, forms and roles."""

import html
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crm.tenancy.context import activate
from customers.actions import share_customer
from sales.models import Opportunity
from tests.conftest import login
from tests.contracts import RecordPagesContract
from tests.factories import make_member


class TestOpportunityPages(RecordPagesContract):
    record_type = "opportunity"
    list_url = "sales:list"
    detail_url = "sales:detail"
    create_url = "sales:create"
    edit_url = "sales:edit"
    text_field = "name"
    kept_field = "lost_reason"
    roles_that_add = ("admin", "manager", "rep")
    roles_that_change = ("admin", "manager")

    def valid_data(self, records) -> dict:
        return {
            "customer": records.customer().pk,
            "name": "Fleet renewal 2027",
            "amount": "125000.50",
            "currency": "usd",
            "stage": "proposal",
            "probability": "",
            "expected_close_date": "2027-03-31",
            "owner": records.actor.pk,
            "lost_reason": "",
        }


def page(response) -> str:
    return response.content.decode()


@pytest.fixture
def reps(tenant, records):
    """Two reps, each owning a customer; rep one also sees a customer shared by rep two."""
    rep = make_member(tenant, "rep-one", role="rep")
    rep2 = make_member(tenant, "rep-two", role="rep")
    own = records.customer(name="Rep one's customer", owner=rep)
    shared = records.customer(name="Shared with rep one", owner=rep2)
    foreign = records.customer(name="Rep two's customer", owner=rep2)
    with activate(tenant):
        share_customer(shared, rep, acting_user=None)
    return rep, rep2, own, shared, foreign


# -- create and edit ---------------------------------------------------------------


def test_create_goes_through_the_action(records, admin_user):
    client = login(admin_user)
    data = TestOpportunityPages().valid_data(records)
    response = client.post(reverse("sales:create"), data)
    deal = Opportunity.all_objects.get(name="Fleet renewal 2027")
    assert response.status_code == 302 and response["Location"] == deal.get_absolute_url()
    assert deal.tenant_id == records.tenant.pk
    assert deal.currency == "USD"  # normalised
    assert deal.amount == Decimal("125000.50")
    assert deal.probability == 50  # the stage's probability when left empty
    assert deal.closed_at is None


def test_create_preselects_the_customer_from_the_query_string(records, admin_user):
    customer = records.customer(name="Preselected Ltd")
    body = page(login(admin_user).get(reverse("sales:create"), {"customer": customer.pk}))
    assert f'<option value="{customer.pk}" selected>Preselected Ltd</option>' in body


@pytest.mark.parametrize("junk", ["abc", "\x00", "-1", "99999999999999999999999", "987654321"])
def test_create_ignores_a_bad_customer_preselection(records, admin_user, junk):
    response = login(admin_user).get(reverse("sales:create"), {"customer": junk})
    assert response.status_code == 200


def test_another_tenants_customer_cannot_be_chosen(records, other_records, admin_user):
    theirs = other_records.customer(name="Not yours")
    data = {**TestOpportunityPages().valid_data(records), "customer": theirs.pk}
    response = login(admin_user).post(reverse("sales:create"), data)
    assert response.status_code == 200
    assert "Select a valid choice" in page(response)
    assert not Opportunity.all_objects.filter(name=data["name"]).exists()


def test_a_rep_may_only_choose_customers_they_can_change(records, reps):
    rep, _rep2, own, shared, foreign = reps
    client = login(rep)
    body = html.unescape(page(client.get(reverse("sales:create"))))  # widgets escape ' as &#39;
    assert own.name in body and shared.name in body
    assert foreign.name not in body
    data = {**TestOpportunityPages().valid_data(records), "customer": foreign.pk, "name": "Poached"}
    assert client.post(reverse("sales:create"), data).status_code == 200
    assert not Opportunity.all_objects.filter(name="Poached").exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("amount", "-5", "greater than or equal to 0"),
        ("amount", "lots", "Enter a number"),
        ("currency", "EURO", "at most 3 characters"),
        ("currency", "E1", "three-letter ISO 4217 code"),
        ("probability", "150", "less than or equal to 100"),
        ("stage", "sold", "Select a valid choice"),
        ("expected_close_date", "31/31/2027", "Enter a valid date"),
        ("owner", "987654321", "Select a valid choice"),
    ],
)
def test_bad_values_are_errors_next_to_the_field(records, admin_user, field, value, message):
    data = {**TestOpportunityPages().valid_data(records), field: value}
    response = login(admin_user).post(reverse("sales:create"), data)
    assert response.status_code == 200
    body = page(response)
    assert message in body
    assert 'aria-invalid="true"' in body
    assert "Fleet renewal 2027" in body  # the rest is kept


def test_an_owner_from_another_tenant_is_refused(records, other_records, admin_user):
    data = {**TestOpportunityPages().valid_data(records), "owner": other_records.actor.pk}
    response = login(admin_user).post(reverse("sales:create"), data)
    assert "Select a valid choice" in page(response)


def test_edit_changing_the_stage_applies_its_probability_and_closes(records, admin_user):
    deal = records.opportunity(stage="lead")
    data = {
        "customer": deal.customer_id,
        "name": deal.name,
        "amount": "1000.00",
        "currency": deal.currency,
        "stage": "won",
        "probability": str(deal.probability),
        "expected_close_date": "",
        "owner": admin_user.pk,
        "lost_reason": "",
    }
    response = login(admin_user).post(reverse("sales:edit", args=[deal.pk]), data)
    assert response.status_code == 302
    deal.refresh_from_db()
    assert deal.stage == "won" and deal.probability == 100 and deal.closed_at is not None


def test_edit_keeps_a_probability_the_user_typed(records, admin_user):
    deal = records.opportunity(stage="lead")
    data = {
        "customer": deal.customer_id,
        "name": deal.name,
        "amount": "1000.00",
        "currency": deal.currency,
        "stage": "proposal",
        "probability": "33",
        "owner": admin_user.pk,
    }
    assert login(admin_user).post(reverse("sales:edit", args=[deal.pk]), data).status_code == 302
    deal.refresh_from_db()
    assert (deal.stage, deal.probability) == ("proposal", 33)


def test_a_rep_edits_own_deals_but_not_another_reps(records, reps):
    rep, _rep2, own, _shared, foreign = reps
    mine = records.opportunity(own, name="Mine")
    theirs = records.opportunity(foreign, name="Theirs")
    client = login(rep)
    assert client.get(reverse("sales:edit", args=[mine.pk])).status_code == 200
    assert client.get(reverse("sales:edit", args=[theirs.pk])).status_code == 404
    data = {**TestOpportunityPages().valid_data(records), "customer": foreign.pk, "name": "Hijacked"}
    assert client.post(reverse("sales:edit", args=[theirs.pk]), data).status_code == 404
    theirs.refresh_from_db()
    assert theirs.name == "Theirs"


# -- list ----------------------------------------------------------------------------


def names_in(response) -> list[str]:
    return [deal.name for deal in response.context["object_list"]]


@pytest.fixture
def deals(records):
    acme = records.customer(name="Acme Corp")
    globex = records.customer(name="Globex")
    return {
        "a": records.opportunity(
            acme, name="Alpha", amount=Decimal("500"), stage="lead", expected_close_date=date(2027, 1, 10)
        ),
        "b": records.opportunity(
            acme, name="Bravo", amount=Decimal("5000"), stage="proposal", expected_close_date=date(2027, 2, 10)
        ),
        "c": records.opportunity(
            globex, name="Charlie", amount=Decimal("50000"), stage="won", expected_close_date=date(2027, 3, 10)
        ),
    }


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, {"Alpha", "Bravo", "Charlie"}),
        ({"stage": "proposal"}, {"Bravo"}),
        ({"q": "acme"}, {"Alpha", "Bravo"}),
        ({"q": "charl"}, {"Charlie"}),
        ({"close_from": "2027-02-01"}, {"Bravo", "Charlie"}),
        ({"close_from": "2027-02-01", "close_to": "2027-02-28"}, {"Bravo"}),
        ({"amount_min": "1000"}, {"Bravo", "Charlie"}),
        ({"amount_max": "5000"}, {"Alpha", "Bravo"}),
        ({"stage": "bogus"}, set()),
        ({"amount_min": "NaN"}, set()),
        ({"close_from": "yesterday"}, set()),
    ],
)
def test_list_filters(deals, admin_user, params, expected):
    response = login(admin_user).get(reverse("sales:list"), params)
    assert response.status_code == 200
    assert set(names_in(response)) == expected


def test_list_filters_by_owner_and_no_owner(records, deals, admin_user, tenant):
    other = make_member(tenant, "otto", role="manager")
    records.opportunity(name="Otto's", owner=other)
    records.opportunity(name="Nobody's", owner=None)
    client = login(admin_user)
    assert names_in(client.get(reverse("sales:list"), {"owner": other.pk})) == ["Otto's"]
    assert names_in(client.get(reverse("sales:list"), {"owner": "null"})) == ["Nobody's"]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("name", ["Alpha", "Bravo", "Charlie"]),
        ("-amount", ["Charlie", "Bravo", "Alpha"]),
        ("stage", ["Alpha", "Bravo", "Charlie"]),  # pipeline order, not alphabetical
        ("-stage", ["Charlie", "Bravo", "Alpha"]),
        ("expected_close_date", ["Alpha", "Bravo", "Charlie"]),
        ("customer", ["Alpha", "Bravo", "Charlie"]),
        ("owner", ["Alpha", "Bravo", "Charlie"]),
    ],
)
def test_list_sorting(deals, admin_user, sort, expected):
    assert names_in(login(admin_user).get(reverse("sales:list"), {"sort": sort})) == expected


def test_list_paginates(records, admin_user):
    customer = records.customer()
    for n in range(7):
        records.opportunity(customer, name=f"Deal {n:02}")
    client = login(admin_user)
    first = client.get(reverse("sales:list"), {"sort": "name", "page_size": 5})
    second = client.get(reverse("sales:list"), {"sort": "name", "page_size": 5, "page": 2})
    assert names_in(first) == [f"Deal {n:02}" for n in range(5)]
    assert names_in(second) == ["Deal 05", "Deal 06"]
    assert "1–5 of 7" in page(first)


def test_list_shows_the_amount_with_its_currency_and_locale_grouping(records, admin_user):
    records.opportunity(name="Big one", amount=Decimal("1234567.80"), currency="EUR")
    body = page(login(admin_user).get(reverse("sales:list")))
    assert "EUR&nbsp;1,234,567.80" in body


def test_list_has_an_empty_state(admin_user):
    body = page(login(admin_user).get(reverse("sales:list")))
    assert 'data-testid="empty-state"' in body and "No opportunities yet." in body


def test_a_filtered_empty_list_says_so(deals, admin_user):
    body = page(login(admin_user).get(reverse("sales:list"), {"q": "no such deal"}))
    assert "No opportunities match these filters." in body


def test_a_rep_lists_only_deals_of_own_and_shared_customers(records, reps):
    rep, _rep2, own, shared, foreign = reps
    records.opportunity(own, name="Own deal")
    records.opportunity(shared, name="Shared deal")
    records.opportunity(foreign, name="Foreign deal")
    assert set(names_in(login(rep).get(reverse("sales:list")))) == {"Own deal", "Shared deal"}


def test_list_query_count_is_constant_with_filters(records, admin_user):
    client = login(admin_user)
    params = {"q": "deal", "stage": "lead", "sort": "-amount"}
    records.opportunity(name="deal 0")
    client.get(reverse("sales:list"), params)
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("sales:list"), params)
    for n in range(10):
        records.opportunity(name=f"deal {n + 1}", owner=make_member(records.tenant, role="rep"))
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("sales:list"), params)
    assert len(many) == len(few)


# -- detail and roles --------------------------------------------------------------------


def test_detail_shows_the_deal(records, admin_user):
    deal = records.opportunity(name="Shown", amount=Decimal("9876.5"), currency="USD", stage="negotiation")
    body = page(login(admin_user).get(reverse("sales:detail", args=[deal.pk])))
    assert "USD&nbsp;9,876.50" in body
    assert 'data-testid="opportunity-move-form"' in body
    assert reverse("sales:edit", args=[deal.pk]) in body


def test_a_viewer_reads_but_sees_no_change_buttons(records, tenant):
    deal = records.opportunity(name="Look only")
    client = login(make_member(tenant, role="viewer"))
    list_page = page(client.get(reverse("sales:list")))
    assert "Look only" in list_page and reverse("sales:create") not in list_page
    body = page(client.get(reverse("sales:detail", args=[deal.pk])))
    assert "Look only" in body
    assert reverse("sales:edit", args=[deal.pk]) not in body
    assert 'data-testid="opportunity-move-form"' not in body


@pytest.mark.parametrize("url", ["sales:list", "sales:board", "sales:create"])
def test_support_cannot_open_opportunity_pages(tenant, url):
    client = login(make_member(tenant, role="support"))
    assert client.get(reverse(url)).status_code == 403


def test_support_cannot_open_a_deal(records, tenant):
    deal = records.opportunity()
    client = login(make_member(tenant, role="support"))
    for url in ("sales:detail", "sales:edit"):
        assert client.get(reverse(url, args=[deal.pk])).status_code in (403, 404)
    assert client.post(reverse("sales:move", args=[deal.pk]), {"stage": "won"}).status_code in (403, 404)
    deal.refresh_from_db()
    assert deal.stage == "lead"


def test_pages_need_a_login(records):
    deal = records.opportunity()
    client = login(make_member(records.tenant))
    client.logout()
    for url in (reverse("sales:list"), reverse("sales:board"), reverse("sales:detail", args=[deal.pk])):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_pages_are_translated(records, admin_user):
    deal = records.opportunity()
    client = login(admin_user, language="zh-hans")
    response = client.get(reverse("sales:detail", args=[deal.pk]))
    assert response.status_code == 200
    assert '<html lang="zh-hans">' in page(response)


NASTY = [
    "99999999999999999999999",
    "-1",
    "1e1000",
    "NaN",
    "Infinity",
    "9999-99-99",
    "0000-01-01",
    "\x00",
    "' OR 1=1 --",
]


@pytest.mark.parametrize("value", NASTY)
@pytest.mark.parametrize("param", ["owner", "stage", "close_from", "close_to", "amount_min", "amount_max", "q", "sort"])
def test_list_and_board_never_fail_on_nasty_parameters(records, admin_user, param, value):
    records.opportunity()
    client = login(admin_user)
    assert client.get(reverse("sales:list"), {param: value}).status_code == 200
    assert client.get(reverse("sales:board"), {param: value}).status_code == 200


@pytest.mark.parametrize("value", NASTY)
@pytest.mark.parametrize("field", ["customer", "amount", "probability", "expected_close_date", "owner", "currency"])
def test_the_form_never_fails_on_nasty_values(records, admin_user, field, value):
    data = {**TestOpportunityPages().valid_data(records), field: value}
    response = login(admin_user).post(reverse("sales:create"), data)
    assert response.status_code in (200, 302)
