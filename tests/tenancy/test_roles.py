"""Roles: what each may see and change (ARCHITECTURE.md, "Permissions")."""

import pytest
from django.urls import reverse

from crm.tenancy.context import activate
from crm.tenancy.roles import Role, role_may
from customers.models import Contact, Customer, Ticket
from sales.models import Opportunity
from tests.factories import RECORD_TYPES, make_member

RECORDS = RECORD_TYPES


@pytest.mark.parametrize("role", [Role.ADMIN, Role.MANAGER, Role.REP])
@pytest.mark.parametrize("action", ["view", "add", "change", "delete", "restore"])
def test_sales_roles_may_work_every_record_type(role, action):
    assert all(role_may(role, action, record) for record in RECORDS if record not in ADMIN_ONLY)


# Company configuration kept as records: administrators only.
ADMIN_ONLY = ("endpoint",)


@pytest.mark.parametrize("action", ["view", "add", "change", "delete", "restore"])
def test_only_administrators_work_webhooks(action):
    assert [role for role in Role.values if role_may(role, action, "endpoint")] == [Role.ADMIN]


def test_support_reads_customers_and_works_tickets_only():
    assert role_may(Role.SUPPORT, "view", "customer")
    assert role_may(Role.SUPPORT, "change", "ticket")
    assert not role_may(Role.SUPPORT, "change", "customer")
    assert not role_may(Role.SUPPORT, "add", "opportunity")
    assert not role_may(Role.SUPPORT, "view", "opportunity")


@pytest.mark.parametrize("action", ["add", "change", "delete", "restore", "purge"])
def test_viewer_only_reads(action):
    assert role_may(Role.VIEWER, "view", "customer")
    assert not any(role_may(Role.VIEWER, action, record) for record in RECORDS)


def test_nobody_may_purge_by_role_alone():
    assert not any(role_may(role, "purge", record) for role in Role.values for record in RECORDS)


@pytest.fixture
def two_reps(tenant, records):
    rep = make_member(tenant, "rep-one", role="rep")
    rep2 = make_member(tenant, "rep-two", role="rep")
    own = records.customer(name="Rep one's customer", owner=rep)
    shared = records.customer(name="Shared with rep one", owner=rep2)
    foreign = records.customer(name="Rep two's customer", owner=rep2)
    with activate(tenant):
        from customers.actions import share_customer

        share_customer(shared, rep, acting_user=None)
    return rep, rep2, own, shared, foreign


def test_a_rep_sees_own_and_shared_customers_only(tenant, two_reps):
    rep, _rep2, own, shared, _foreign = two_reps
    with activate(tenant):
        visible = set(Customer.objects.for_user(rep).values_list("pk", flat=True))
    assert visible == {own.pk, shared.pk}


def test_a_rep_reaches_children_only_through_visible_customers(tenant, records, two_reps):
    rep, _rep2, own, _shared, foreign = two_reps
    mine = records.contact(own)
    records.contact(foreign)
    deal = records.opportunity(own)
    records.opportunity(foreign)
    ticket = records.ticket(own)
    records.ticket(foreign)
    with activate(tenant):
        assert list(Contact.objects.for_user(rep)) == [mine]
        assert list(Opportunity.objects.for_user(rep)) == [deal]
        assert list(Ticket.objects.for_user(rep)) == [ticket]


def test_a_rep_gets_404_for_another_reps_customer(tenant, two_reps):
    from tests.conftest import login

    rep, _rep2, own, _shared, foreign = two_reps
    client = login(rep)
    assert client.get(reverse("customers:detail", args=[own.pk])).status_code == 200
    assert client.get(reverse("customers:detail", args=[foreign.pk])).status_code == 404


@pytest.mark.parametrize("role", ["admin", "manager", "viewer", "support"])
def test_other_roles_see_the_whole_tenant(tenant, role, two_reps):
    user = make_member(tenant, f"someone-{role}", role=role)
    with activate(tenant):
        assert Customer.objects.for_user(user).count() == 3


def test_support_may_delete_only_tickets_assigned_to_them(tenant, records):
    agent = make_member(tenant, "agent", role="support")
    theirs = records.ticket(assignee=agent)
    records.ticket(assignee=None)
    with activate(tenant):
        assert list(Ticket.objects.for_user(agent, "delete")) == [theirs]
        assert Ticket.objects.for_user(agent, "change").count() == 2
        assert not Customer.objects.for_user(agent, "change").exists()


def test_a_user_without_membership_in_the_active_tenant_sees_nothing(tenant, other_tenant, records):
    records.customer()
    outsider = make_member(other_tenant, "outsider", role="admin")
    with activate(tenant):
        assert not Customer.objects.for_user(outsider).exists()
