"""The dashboard: pipeline figures, bounded ticket lists with their counts, constant queries."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from crm.web import dashboard
from customers import dashboard as ticket_panels
from tests.conftest import login
from tests.factories import make_member


def test_pipeline_counts_and_totals_per_stage_and_currency(records, admin_user):
    records.opportunity(stage="lead", amount=Decimal("100"), currency="CNY")
    records.opportunity(stage="lead", amount=Decimal("200"), currency="CNY")
    records.opportunity(stage="proposal", amount=Decimal("1500"), currency="USD")
    records.opportunity(stage="won", amount=Decimal("999"), currency="CNY")  # closed: not in the pipeline
    response = login(admin_user).get(reverse("dashboard"))
    assert response.status_code == 200
    pipeline = {stage["stage"]: stage for stage in response.context["pipeline"]}
    assert list(pipeline) == ["lead", "qualified", "proposal", "negotiation"]
    assert pipeline["lead"]["count"] == 2
    assert pipeline["lead"]["totals"] == [{"currency": "CNY", "amount": Decimal("300.00")}]
    assert pipeline["proposal"]["totals"] == [{"currency": "USD", "amount": Decimal("1500.00")}]
    assert pipeline["qualified"]["count"] == 0
    body = response.content.decode()
    assert "CNY&nbsp;300.00" in body and "USD&nbsp;1,500.00" in body


def test_my_items(records, admin_user, tenant):
    other = make_member(tenant, role="manager")
    records.opportunity(name="My deal")
    records.opportunity(name="Their deal", owner=other)
    records.opportunity(name="My won deal", stage="won")
    records.ticket(subject="My ticket", assignee=admin_user)
    records.ticket(subject="My closed ticket", assignee=admin_user, status="closed")
    records.ticket(subject="Their ticket", assignee=other)
    context = login(admin_user).get(reverse("dashboard")).context
    assert [deal.name for deal in context["my_opportunities"]] == ["My deal"]
    assert [ticket.subject for ticket in context["my_tickets"]] == ["My ticket"]


def test_due_today_and_overdue_lists_are_bounded_but_counted(records, admin_user, monkeypatch):
    monkeypatch.setattr(ticket_panels, "DUE_ITEMS", 3)
    now = timezone.now()
    customer = records.customer()
    for n in range(5):
        records.ticket(customer, subject=f"Overdue {n}", due_at=now - timedelta(hours=n + 1))
    records.ticket(customer, subject="Overdue but resolved", status="resolved", due_at=now - timedelta(hours=1))
    end_of_day = dashboard.end_of_today()
    due_today = 0
    if end_of_day - now > timedelta(minutes=2):
        records.ticket(customer, subject="Due later today", due_at=now + (end_of_day - now) / 2)
        due_today = 1
    records.ticket(customer, subject="Due next week", due_at=now + timedelta(days=7))
    response = login(admin_user).get(reverse("dashboard"))
    context = response.context
    assert context["tickets_overdue_count"] == 5
    assert [ticket.subject for ticket in context["tickets_overdue"]] == ["Overdue 4", "Overdue 3", "Overdue 2"]
    assert context["tickets_due_today_count"] == due_today
    body = response.content.decode()
    assert 'data-testid="overdue-count">5<' in body
    assert 'data-testid="overdue-all"' in body and "Show all 5 in the list" in body


def test_dashboard_runs_a_constant_number_of_queries(records, admin_user, tenant):
    client = login(admin_user)
    records.opportunity()
    records.ticket(assignee=admin_user, due_at=timezone.now() - timedelta(hours=1))
    records.interaction()
    client.get(reverse("dashboard"))
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("dashboard")).status_code == 200
    now = timezone.now()
    for n in range(15):
        customer = records.customer()
        member = make_member(tenant, role="support")
        records.opportunity(customer, stage=["lead", "qualified", "proposal"][n % 3], currency=["CNY", "USD"][n % 2])
        records.ticket(customer, assignee=member, due_at=now - timedelta(hours=n + 1))
        records.ticket(customer, assignee=admin_user, due_at=now + timedelta(minutes=n + 1))
        records.interaction(customer, author=make_member(tenant, role="manager") if n == 0 else None)
    with CaptureQueriesContext(connection) as many:
        assert client.get(reverse("dashboard")).status_code == 200
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]


@pytest.mark.parametrize("role", ["support"])
def test_roles_without_opportunities_see_no_pipeline(records, tenant, role):
    records.opportunity(name="Hidden deal")
    response = login(make_member(tenant, role=role)).get(reverse("dashboard"))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-testid="pipeline-lead"' not in body and "Hidden deal" not in body
    assert 'data-testid="overdue"' in body


def test_a_rep_sees_only_own_figures(records, tenant):
    rep = make_member(tenant, role="rep")
    records.opportunity(records.customer(owner=rep), amount=Decimal("10"))
    records.opportunity(amount=Decimal("1000000"))
    records.ticket(records.customer(owner=rep), due_at=timezone.now() - timedelta(hours=1))
    records.ticket(due_at=timezone.now() - timedelta(hours=1))
    context = login(rep).get(reverse("dashboard")).context
    lead = next(stage for stage in context["pipeline"] if stage["stage"] == "lead")
    assert lead["count"] == 1 and lead["totals"] == [{"currency": "CNY", "amount": Decimal("10.00")}]
    assert context["tickets_overdue_count"] == 1


# -- a company's first login --------------------------------------------------------------------------


def test_a_company_without_customers_sees_its_first_steps_instead_of_zeros(tenant, admin_user):
    response = login(admin_user).get(reverse("dashboard"))
    body = response.content.decode()
    assert 'data-testid="first-steps"' in body
    # No import page exists, so nothing links to one; the step to take is creating a customer.
    assert reverse("customers:create") in body and 'data-testid="step-import"' not in body
    # A company admin who is not installation staff cannot open the members page: they get the command.
    assert f"manage.py create_user {tenant.slug} USERNAME --role rep" in body
    assert 'data-testid="pipeline-lead"' not in body and 'data-testid="overdue"' not in body
    assert "pipeline" not in response.context


def test_staff_admins_are_sent_to_the_members_page(tenant, admin_user):
    admin_user.is_staff = True
    admin_user.save(update_fields=["is_staff"])
    body = login(admin_user).get(reverse("dashboard")).content.decode()
    assert reverse("admin:tenancy_tenant_change", args=[tenant.pk]) in body
    assert 'data-testid="invite-command"' not in body


@pytest.mark.parametrize("role", ["manager", "rep"])
def test_only_admins_are_asked_to_invite_colleagues(tenant, role):
    body = login(make_member(tenant, role=role)).get(reverse("dashboard")).content.decode()
    assert 'data-testid="step-create"' in body and 'data-testid="step-invite"' not in body


def test_members_who_cannot_add_customers_are_not_offered_to(tenant):
    body = login(make_member(tenant, role="viewer")).get(reverse("dashboard")).content.decode()
    assert 'data-testid="first-steps"' in body and reverse("customers:create") not in body


def test_once_the_company_has_a_customer_the_dashboard_shows(records, admin_user):
    records.customer()
    body = login(admin_user).get(reverse("dashboard")).content.decode()
    assert 'data-testid="first-steps"' not in body and 'data-testid="pipeline-lead"' in body


def test_no_count_badge_when_nothing_is_due_or_overdue(records, admin_user):
    records.ticket(due_at=timezone.now() + timedelta(days=7))
    body = login(admin_user).get(reverse("dashboard")).content.decode()
    assert 'data-testid="overdue"' in body
    assert 'data-testid="overdue-count"' not in body and 'data-testid="due-today-count"' not in body
