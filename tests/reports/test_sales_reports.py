"""The pipeline's reports on a known data set (tests/reports/conftest.py `pipeline`)."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from crm.recyclebin import actions as bin_actions
from crm.tenancy.context import activate
from reports.queries import sales
from sales.models import Opportunity
from tests.reports.conftest import moved


def by(rows, key):
    return {row[key]: row for row in rows}


def test_funnel_counts_each_stage_reached_and_the_conversion(pipeline, admin_user, in_company):
    funnel = in_company(sales.funnel, admin_user)["funnel"]
    # Reached: lead all 5; qualified won+lost; proposal, negotiation (skipped on the way) and won: the two won.
    assert [(row["stage"], row["reached"]) for row in funnel] == [
        ("Lead", 5),
        ("Qualified", 3),
        ("Proposal", 2),
        ("Negotiation", 2),
        ("Won", 2),
    ]
    assert [row["from_previous"] for row in funnel] == [None, 60.0, 66.7, 100.0, 100.0]
    assert [row["from_first"] for row in funnel] == [100.0, 60.0, 40.0, 40.0, 40.0]


def test_a_rep_sees_only_their_book(pipeline, rep, in_company):
    funnel = in_company(sales.funnel, rep)["funnel"]
    assert [row["reached"] for row in funnel] == [1, 1, 1, 1, 1]
    owners = in_company(sales.win_rate, rep)["by_owner"]
    assert [(row["name"], row["won"], row["lost"]) for row in owners] == [("rita", 1, 0)]
    [forecast] = in_company(sales.forecast, rep, forward=True)["forecast"]
    assert (forecast["currency"], forecast["count"], forecast["pipeline"], forecast["won"]) == (
        "CNY",
        0,
        None,
        Decimal("500"),
    )


def test_win_rate_by_owner_and_month_deal_size_and_sales_cycle(pipeline, admin_user, in_company):
    tables = in_company(sales.win_rate, admin_user)
    owners = by(tables["by_owner"], "name")
    assert (owners["alice"]["won"], owners["alice"]["lost"], owners["alice"]["win_rate"]) == (1, 1, 50.0)
    assert (owners["rita"]["won"], owners["rita"]["win_rate"]) == (1, 100.0)
    this_month = timezone.localdate().replace(day=1)
    months = by(tables["by_month"], "month")
    assert len(tables["by_month"]) == 12  # every month of the period, empty ones as zeros
    assert (months[this_month]["won"], months[this_month]["lost"], months[this_month]["win_rate"]) == (2, 1, 66.7)
    empty = tables["by_month"][0]
    assert (empty["won"], empty["lost"], empty["win_rate"]) == (0, 0, None)
    [cny] = tables["by_currency"]
    assert (cny["currency"], cny["won"], cny["won_amount"], cny["average"]) == (
        "CNY",
        2,
        Decimal("1500"),
        Decimal("750"),
    )
    assert cny["won_cycle"] == 5.0  # 10 days and 0 days
    assert cny["cycle"] == round((10 + 0 + 0) / 3, 1)


def test_lost_reasons_count_the_list_and_free_text(records, pipeline, admin_user, in_company):
    customer = records.customer()
    moved(records, records.opportunity(customer), "lost", reason="Price")
    moved(records, records.opportunity(customer), "lost", text="The champion left")
    rows = in_company(sales.lost_reasons, admin_user)["lost_reasons"]
    assert [(row["reason"], row["count"], row["share"]) for row in rows] == [
        ("Price", 2, 66.7),
        ("Other (free text)", 1, 33.3),
    ]


def test_forecast_keeps_currencies_apart_and_weights_by_probability(pipeline, admin_user, in_company):
    rows = in_company(sales.forecast, admin_user, forward=True)["forecast"]
    month = timezone.localdate().replace(day=1)
    assert [(r["month"], r["currency"], r["count"], r["pipeline"], r["weighted"], r["won"]) for r in rows] == [
        (month, "CNY", 1, Decimal("2000.00"), Decimal("1000.00"), Decimal("1500.00")),
        (month, "USD", 1, Decimal("3000.00"), Decimal("600.00"), None),
    ]
    only_usd = in_company(sales.forecast, admin_user, forward=True, currency="usd")["forecast"]
    assert [row["currency"] for row in only_usd] == ["USD"]


def test_owner_filter(pipeline, admin_user, rep, in_company):
    owners = in_company(sales.win_rate, admin_user, owner=rep.pk)["by_owner"]
    assert [row["name"] for row in owners] == ["rita"]


def test_an_empty_period_is_zeros_not_an_error(pipeline, admin_user, in_company):
    long_ago = timezone.localdate() - timedelta(days=3 * 365)
    period = {"start": long_ago.isoformat(), "end": (long_ago + timedelta(days=40)).isoformat()}
    assert [row["reached"] for row in in_company(sales.funnel, admin_user, **period)["funnel"]] == [0] * 5
    tables = in_company(sales.win_rate, admin_user, **period)
    assert tables["by_owner"] == [] and tables["by_currency"] == []
    assert [row["won"] for row in tables["by_month"]] == [0] * len(tables["by_month"])
    assert in_company(sales.lost_reasons, admin_user, **period)["lost_reasons"] == []
    assert in_company(sales.forecast, admin_user, **period)["forecast"] == []


def test_another_companys_deals_are_never_counted(pipeline, other_records, admin_user, in_company):
    customer = other_records.customer()
    moved(other_records, other_records.opportunity(customer, amount=Decimal("99999")), "won")
    other_records.opportunity(customer, expected_close_date=timezone.localdate(), amount=Decimal("77777"))
    assert in_company(sales.funnel, admin_user)["funnel"][0]["reached"] == 5
    rows = in_company(sales.forecast, admin_user, forward=True)["forecast"]
    assert Decimal("77777") not in [row["pipeline"] for row in rows]
    assert in_company(sales.win_rate, admin_user)["by_currency"][0]["won_amount"] == Decimal("1500")


def test_deleted_deals_are_not_counted(records, pipeline, admin_user, in_company):
    with activate(records.tenant, user=admin_user, process="tests"):
        bin_actions.delete(Opportunity.objects.filter(pk=pipeline["open_usd"].pk), acting_user=admin_user)
    rows = in_company(sales.forecast, admin_user, forward=True)["forecast"]
    assert [row["currency"] for row in rows] == ["CNY"]
    assert in_company(sales.funnel, admin_user)["funnel"][0]["reached"] == 4
