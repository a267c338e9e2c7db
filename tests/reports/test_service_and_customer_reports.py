"""The tickets' and customers' reports on known data."""

from datetime import timedelta

from django.utils import timezone

from customers import actions as customer_actions
from customers.models import Customer, Ticket
from reports.queries import customers, service
from tests.factories import make_member
from tests.reports.conftest import backdate


def test_tickets_opened_resolved_backlog_and_due_times(records, admin_user, in_company):
    now = timezone.now()
    customer = records.customer()
    on_time = records.ticket(customer, priority="high", due_at=now + timedelta(days=1))
    late = records.ticket(customer, priority="normal", due_at=now - timedelta(hours=1))
    records.ticket(customer, priority="urgent")
    records.ticket(customer, priority="urgent")
    records.ticket(customer, priority="low", status="pending")
    for ticket in (on_time, late):
        records._run(customer_actions.change_ticket_status, ticket, "resolved")
    backdate(Ticket, on_time.pk, created_at=now - timedelta(days=2))

    tables = in_company(service.tickets, admin_user)
    assert sum(row["opened"] for row in tables["per_week"]) == 5
    assert sum(row["resolved"] for row in tables["per_week"]) == 2
    assert [(row["priority"], row["count"]) for row in tables["backlog"]] == [
        ("Urgent", 2),
        ("High", 0),
        ("Normal", 0),
        ("Low", 1),
    ]
    [resolution] = tables["resolution"]
    assert (resolution["resolved"], resolution["with_due"], resolution["within_due"]) == (2, 2, 1)
    assert resolution["share_within_due"] == 50.0
    assert resolution["average_days"] == 1.0  # two days and nothing


def test_tickets_owner_filter_is_the_assignee(records, admin_user, in_company, tenant):
    agent = make_member(tenant, "sam", role="support")
    customer = records.customer()
    records.ticket(customer, assignee=agent)
    records.ticket(customer)
    tables = in_company(service.tickets, admin_user, owner=agent.pk)
    assert sum(row["opened"] for row in tables["per_week"]) == 1


def test_customers_new_by_status_tier_industry_and_churned(records, admin_user, in_company):
    records.customer(status="active", tier="A", industry="Retail")
    records.customer(status="lead", tier="B", industry="Retail")
    leaving = records.customer(status="active", tier="A", industry="Energy")
    records._run(customer_actions.update_customer, leaving, status="churned")
    old = records.customer(status="active")
    backdate(Customer, old.pk, created_at=timezone.now() - timedelta(days=3 * 365))

    tables = in_company(customers.customers, admin_user)
    this_month = timezone.localdate().replace(day=1)
    months = {row["month"]: row for row in tables["per_month"]}
    assert len(tables["per_month"]) == 12
    assert (months[this_month]["new"], months[this_month]["churned"]) == (3, 1)
    assert {row["value"]: row["count"] for row in tables["by_status"]} == {"Active": 2, "Lead": 1, "Churned": 1}
    assert {row["value"]: row["count"] for row in tables["by_tier"]} == {"Tier A": 2, "Tier B": 1, "Tier C": 1}
    assert {row["value"]: row["count"] for row in tables["by_industry"]} == {"Retail": 2, "Energy": 1, "—": 1}


def test_churn_counts_the_change_once_not_each_later_edit(records, admin_user, in_company):
    leaving = records.customer(status="active")
    leaving = records._run(customer_actions.update_customer, leaving, status="churned")
    records._run(customer_actions.update_customer, leaving, phone="123")
    per_month = in_company(customers.customers, admin_user)["per_month"]
    assert sum(row["churned"] for row in per_month) == 1


def test_a_rep_counts_only_their_customers(records, admin_user, rep, in_company):
    records.customer()
    records._run(customer_actions.create_customer, name="Rita's", owner=rep, acting_user=rep)
    per_month = in_company(customers.customers, rep)["per_month"]
    assert sum(row["new"] for row in per_month) == 1


def test_another_companys_tickets_and_customers_are_never_counted(records, other_records, admin_user, in_company):
    records.ticket()
    other_records.ticket()
    other_records.customer()
    assert sum(row["opened"] for row in in_company(service.tickets, admin_user)["per_week"]) == 1
    assert sum(row["new"] for row in in_company(customers.customers, admin_user)["per_month"]) == 1
