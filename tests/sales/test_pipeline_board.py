"""The pipeline board: columns, totals, bounded cards, and moving a deal between stages."""

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crm.tenancy.context import activate
from customers.actions import share_customer
from sales import views
from sales.actions import set_lost_reasons
from sales.models import Opportunity
from tests.conftest import login
from tests.factories import make_member

STAGES = ["lead", "qualified", "proposal", "negotiation", "won", "lost"]


def columns(response) -> dict:
    return {column["stage"]: column for column in response.context["columns"]}


def test_board_has_one_column_per_stage_in_pipeline_order(admin_user):
    response = login(admin_user).get(reverse("sales:board"))
    assert response.status_code == 200
    body = response.content.decode()
    positions = [body.index(f'data-testid="board-column-{stage}"') for stage in STAGES]
    assert positions == sorted(positions)
    assert "crm/board.js" in body


def test_columns_count_and_total_per_currency(records, admin_user):
    records.opportunity(name="A", stage="lead", amount=Decimal("100.00"), currency="CNY")
    records.opportunity(name="B", stage="lead", amount=Decimal("250.50"), currency="CNY")
    records.opportunity(name="C", stage="lead", amount=Decimal("1000"), currency="USD")
    records.opportunity(name="D", stage="won", amount=Decimal("7"), currency="EUR")
    response = login(admin_user).get(reverse("sales:board"))
    board = columns(response)
    assert board["lead"]["count"] == 3
    assert board["lead"]["totals"] == [
        {"currency": "CNY", "amount": Decimal("350.50")},
        {"currency": "USD", "amount": Decimal("1000.00")},
    ]
    assert board["won"]["count"] == 1 and board["proposal"]["count"] == 0
    body = response.content.decode()
    assert "CNY&nbsp;350.50" in body and "USD&nbsp;1,000.00" in body


def test_cards_show_name_customer_amount_owner_and_close_date(records, admin_user):
    customer = records.customer(name="Card Customer")
    deal = records.opportunity(
        customer, name="Card deal", amount=Decimal("4321"), currency="USD", expected_close_date="2027-05-06"
    )
    body = login(admin_user).get(reverse("sales:board")).content.decode()
    card = re.search(rf'<article[^>]*data-id="{deal.pk}".*?</article>', body, re.S).group(0)
    assert 'data-testid="opportunity-card"' in card
    for text in ("Card deal", "Card Customer", "USD&nbsp;4,321.00", admin_user.username, "05/06/2027"):
        assert text in card, text
    assert 'draggable="true"' in card
    assert 'data-testid="card-move-form"' in card


def test_a_column_shows_the_newest_cards_and_links_to_the_rest(records, admin_user, monkeypatch):
    monkeypatch.setattr(views.PipelineBoardView, "cards_per_stage", 3)
    customer = records.customer()
    made = [records.opportunity(customer, name=f"Lead {n}", stage="lead") for n in range(5)]
    records.opportunity(customer, name="Only proposal", stage="proposal")
    response = login(admin_user).get(reverse("sales:board"))
    board = columns(response)
    assert [card.name for card in board["lead"]["cards"]] == [deal.name for deal in reversed(made)][:3]
    assert board["lead"]["count"] == 5 and board["lead"]["hidden"] == 2
    assert [card.name for card in board["proposal"]["cards"]] == ["Only proposal"]
    body = response.content.decode()
    assert f"{reverse('sales:list')}?stage=lead" in body
    assert "2 more" in body


def test_board_runs_a_constant_number_of_queries(records, admin_user):
    client = login(admin_user)
    records.opportunity()
    client.get(reverse("sales:board"))
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("sales:board")).status_code == 200
    for n, stage in enumerate(STAGES * 3):
        records.opportunity(stage=stage, currency=["CNY", "USD"][n % 2], owner=make_member(records.tenant))
    with CaptureQueriesContext(connection) as many:
        assert client.get(reverse("sales:board")).status_code == 200
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]


def test_board_filters_by_owner_and_search(records, admin_user, tenant):
    other = make_member(tenant, "olga", role="rep")
    records.opportunity(name="Mine")
    records.opportunity(name="Olga's", owner=other)
    client = login(admin_user)
    cards = columns(client.get(reverse("sales:board"), {"owner": other.pk}))["lead"]["cards"]
    assert [card.name for card in cards] == ["Olga's"]
    cards = columns(client.get(reverse("sales:board"), {"q": "min"}))["lead"]["cards"]
    assert [card.name for card in cards] == ["Mine"]


def test_board_survives_nonsense_parameters(records, admin_user):
    records.opportunity()
    response = login(admin_user).get(reverse("sales:board"), {"owner": "x\x00", "q": "\x00"})
    assert response.status_code == 200


def test_a_viewer_sees_the_board_without_move_controls(records, tenant):
    records.opportunity(name="Static")
    body = login(make_member(tenant, role="viewer")).get(reverse("sales:board")).content.decode()
    assert "Static" in body
    assert 'draggable="true"' not in body and 'data-testid="card-move-form"' not in body
    assert "crm/board.js" not in body


# -- moving ----------------------------------------------------------------------------


def move(client, deal, **data):
    return client.post(reverse("sales:move", args=[deal.pk]), data)


def test_move_changes_stage_probability_and_closed_at(records, admin_user):
    deal = records.opportunity(stage="lead")
    client = login(admin_user)
    response = move(client, deal, stage="negotiation", next=reverse("sales:board"))
    assert response.status_code == 302 and response["Location"] == reverse("sales:board")
    deal.refresh_from_db()
    assert (deal.stage, deal.probability, deal.closed_at) == ("negotiation", 75, None)

    move(client, deal, stage="won")
    deal.refresh_from_db()
    assert (deal.stage, deal.probability) == ("won", 100) and deal.closed_at is not None

    move(client, deal, stage="qualified")
    deal.refresh_from_db()
    assert (deal.stage, deal.probability, deal.closed_at) == ("qualified", 25, None)


def test_move_to_lost_records_the_reason(records, admin_user):
    client = login(admin_user)
    with_reason = records.opportunity()
    move(client, with_reason, stage="lost", lost_reason="Went with a competitor")
    with_reason.refresh_from_db()
    assert (with_reason.stage, with_reason.probability, with_reason.lost_reason) == (
        "lost",
        0,
        "Went with a competitor",
    )
    assert with_reason.closed_at is not None


def test_move_to_lost_without_a_reason_is_refused(records, admin_user):
    deal = records.opportunity(stage="proposal")
    response = move(login(admin_user), deal, stage="lost", lost_reason="  ")
    assert response.status_code == 400
    assert "Say why the deal was lost" in response.content.decode()
    deal.refresh_from_db()
    assert (deal.stage, deal.lost_reason) == ("proposal", "")


def test_move_to_lost_takes_a_reason_from_the_companys_list(records, admin_user):
    records._run(set_lost_reasons, ["Price", "Timing"])
    deal = records.opportunity()
    client = login(admin_user)
    refused = move(client, deal, stage="lost", lost_reason_choice="Not on the list")
    assert refused.status_code == 400
    move(client, deal, stage="lost", lost_reason_choice="Price")
    deal.refresh_from_db()
    assert (deal.stage, deal.lost_reason_choice, deal.lost_reason) == ("lost", "Price", "")
    board = client.get(reverse("sales:board")).content.decode()
    assert '<option value="Timing">Timing</option>' in board


def test_moving_out_of_lost_clears_the_reason(records, admin_user):
    deal = records.opportunity()
    client = login(admin_user)
    move(client, deal, stage="lost", lost_reason="Budget")
    move(client, deal, stage="proposal")
    deal.refresh_from_db()
    assert (deal.stage, deal.lost_reason, deal.closed_at) == ("proposal", "", None)


def test_the_detail_pages_move_form_works(records, admin_user):
    deal = records.opportunity()
    client = login(admin_user)
    response = client.post(
        reverse("sales:move", args=[deal.pk]),
        {"move-stage": "lost", "move-lost_reason": "Too pricey", "next": deal.get_absolute_url()},
        follow=True,
    )
    deal.refresh_from_db()
    assert (deal.stage, deal.lost_reason) == ("lost", "Too pricey")
    assert "moved to Lost" in response.content.decode()


@pytest.mark.parametrize("stage", ["sold", "", "\x00", "LEAD", "lead; drop table"])
def test_an_invalid_stage_is_a_client_error(records, admin_user, stage):
    deal = records.opportunity(stage="proposal")
    response = move(login(admin_user), deal, stage=stage)
    assert response.status_code == 400
    assert "is-invalid" in response.content.decode()
    deal.refresh_from_db()
    assert deal.stage == "proposal"


def test_a_too_long_lost_reason_is_a_client_error(records, admin_user):
    deal = records.opportunity()
    response = move(login(admin_user), deal, stage="lost", lost_reason="x" * 501)
    assert response.status_code == 400
    deal.refresh_from_db()
    assert deal.stage == "lead"


def test_move_only_accepts_post(records, admin_user):
    deal = records.opportunity()
    assert login(admin_user).get(reverse("sales:move", args=[deal.pk])).status_code == 405


def test_move_ignores_an_offsite_next(records, admin_user):
    deal = records.opportunity()
    response = move(login(admin_user), deal, stage="qualified", next="https://evil.example/")
    assert response["Location"] == deal.get_absolute_url()


def test_an_htmx_move_answers_with_the_board(records, admin_user):
    deal = records.opportunity()
    client = login(admin_user)
    response = client.post(
        reverse("sales:move", args=[deal.pk]),
        {"stage": "proposal", "next": reverse("sales:board")},
        HTTP_HX_REQUEST="true",
        follow=True,
    )
    assert response.status_code == 200
    board = columns(response)
    assert [card.pk for card in board["proposal"]["cards"]] == [deal.pk]
    assert 'id="board"' in response.content.decode()


def test_a_viewer_may_not_move(records, tenant):
    deal = records.opportunity()
    response = move(login(make_member(tenant, role="viewer")), deal, stage="won")
    assert response.status_code == 403
    deal.refresh_from_db()
    assert deal.stage == "lead"


def test_a_rep_moves_own_and_shared_deals_but_not_another_reps(records, tenant):
    rep = make_member(tenant, "rep-one", role="rep")
    rep2 = make_member(tenant, "rep-two", role="rep")
    own = records.opportunity(records.customer(owner=rep))
    shared_customer = records.customer(owner=rep2)
    with activate(tenant):
        share_customer(shared_customer, rep, acting_user=None)
    shared = records.opportunity(shared_customer)
    foreign = records.opportunity(records.customer(owner=rep2))
    client = login(rep)
    assert move(client, own, stage="won").status_code == 302
    assert move(client, shared, stage="won").status_code == 302
    assert move(client, foreign, stage="won").status_code in (403, 404)
    foreign.refresh_from_db()
    assert foreign.stage == "lead"
    assert {card.pk for column in columns(client.get(reverse("sales:board"))).values() for card in column["cards"]} == {
        own.pk,
        shared.pk,
    }


def test_another_tenants_deal_cannot_be_moved(other_records, admin_user):
    theirs = other_records.opportunity()
    assert move(login(admin_user), theirs, stage="won").status_code == 404
    with activate(other_records.tenant):
        assert Opportunity.objects.get(pk=theirs.pk).stage == "lead"


def test_moving_a_missing_deal_is_not_found(admin_user):
    assert login(admin_user).post("/opportunities/987654321/move/", {"stage": "won"}).status_code == 404
    assert login(admin_user).post("/opportunities/99999999999999999999/move/", {"stage": "won"}).status_code == 404
