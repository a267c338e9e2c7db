"""A known data set for the reports: deals, tickets and customers of one company, moved by the actions."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from crm.tenancy.context import activate
from customers import actions as customer_actions
from sales import actions as sales_actions
from sales.models import Opportunity
from tests.factories import make_member


def moved(records, deal, *stages, **values):
    """Move `deal` through `stages` with the actions (each move is a history row)."""
    for stage in stages:
        extra = (
            {"lost_reason_choice": values.get("reason", ""), "lost_reason": values.get("text", "")}
            if stage == "lost"
            else {}
        )
        deal = records._run(sales_actions.update_opportunity, deal, stage=stage, **extra)
    return deal


def backdate(model, pk, **fields):
    """Arrange a date the actions set to now (creation, closing): the test's time machine."""
    model.all_objects.filter(pk=pk).update(**fields)


@pytest.fixture
def rep(tenant):
    return make_member(tenant, "rita", role="rep")


@pytest.fixture
def pipeline(records, admin_user, rep):
    """Five deals of the admin's customer and one of the rep's own customer.

    won_deal: lead -> qualified -> proposal -> won (CNY 1000, created 10 days before it was won)
    lost_deal: lead -> qualified -> lost ("Price")
    open_cny: lead (CNY 2000, closing this month, probability 50)
    open_usd: lead (USD 3000, closing this month, probability 20)
    rep_deal: the rep's, lead -> won (CNY 500)
    """
    records._run(sales_actions.set_lost_reasons, ["Price", "Timing"])
    customer = records.customer(name="Acme")
    today = timezone.localdate()
    deals = {}
    deals["won_deal"] = moved(
        records, records.opportunity(customer, amount=Decimal("1000")), "qualified", "proposal", "won"
    )
    backdate(Opportunity, deals["won_deal"].pk, created_at=deals["won_deal"].closed_at - timedelta(days=10))
    deals["lost_deal"] = moved(records, records.opportunity(customer), "qualified", "lost", reason="Price")
    deals["open_cny"] = records.opportunity(
        customer, amount=Decimal("2000"), currency="CNY", probability=50, expected_close_date=today
    )
    deals["open_usd"] = records.opportunity(
        customer, amount=Decimal("3000"), currency="USD", probability=20, expected_close_date=today
    )
    rep_customer = records._run(customer_actions.create_customer, name="Rita's", owner=rep, acting_user=rep)
    deals["rep_deal"] = records._run(
        sales_actions.create_opportunity, rep_customer, acting_user=rep, name="Rita's deal", amount=Decimal("500")
    )
    deals["rep_deal"] = records._run(sales_actions.update_opportunity, deals["rep_deal"], stage="won", acting_user=rep)
    return deals


@pytest.fixture
def in_company(tenant):
    """report(function, user) -> its tables as {key: rows}, computed in `tenant` as `user`."""
    from reports.filters import ReportFilterForm

    def run(function, user, forward=False, **data):
        with activate(tenant, user=user, process="tests"):
            form = ReportFilterForm(data, forward=forward)
            assert form.is_valid(), form.errors
            return {table.key: table.rows for table in function(user, form.filters())}

    return run
