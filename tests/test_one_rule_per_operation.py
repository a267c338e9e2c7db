"""Each operation has one rule, kept by its action, so the browser, the API and the admin agree.

Every case here was a drift between two ways in: revert checked three ways,
the parent customer of a new record chosen four ways, sharing and the admin
writing around the audit log, the API letting a rep sign someone else's call.
"""

import pytest
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from crm.tenancy.context import activate
from crm.tenancy.models import Membership
from customers import actions as customer_actions
from customers.models import Customer, CustomerShare, Interaction
from tests.api.conftest import error_of, token_client
from tests.conftest import login
from tests.factories import PASSWORD, RecordMaker, make_member, make_user

# -- revert -----------------------------------------------------------------------------------------


@pytest.fixture
def contact_moved_from_another_reps_customer(tenant, records):
    """A rep's contact that once belonged to a customer of another rep (the rep cannot see that one)."""
    rep = make_member(tenant, role="rep")
    theirs = records.customer(name="Another rep's customer", owner=make_member(tenant, role="rep"))
    mine = RecordMaker(tenant, rep).customer(name="Mine")
    contact = records.contact(theirs, name="Pat")
    first = contact.history.earliest("history_date")
    records._run(customer_actions.update_contact, contact, customer=mine)
    return rep, contact, first, theirs


def test_a_rep_cannot_revert_a_contact_onto_a_customer_they_cannot_see_in_the_browser(
    contact_moved_from_another_reps_customer,
):
    rep, contact, first, theirs = contact_moved_from_another_reps_customer
    client = login(rep)
    url = reverse("history:revert", args=["contact", contact.pk, first.history_id])
    page = client.get(url)
    assert page.status_code == 409
    assert "not visible to you" in page.context["error"] and theirs.name not in page.context["error"]
    assert client.post(url).status_code == 409
    contact.refresh_from_db()
    assert contact.customer.name == "Mine"


def test_a_rep_cannot_revert_a_contact_onto_a_customer_they_cannot_see_through_the_api(
    contact_moved_from_another_reps_customer, tenant
):
    rep, contact, first, _theirs = contact_moved_from_another_reps_customer
    api = token_client(tenant, rep)
    error = error_of(api.post(f"/api/v1/contacts/{contact.pk}/history/{first.history_id}/revert/"), 409)
    assert error["code"] == "revert_conflict" and "customer" in error["fields"]
    contact.refresh_from_db()
    assert contact.customer.name == "Mine"


# -- which customer a new record may hang off ------------------------------------------------------------

CHILD_FORMS = {
    "contact": lambda customer: (reverse("customers:contact_create", args=[customer.pk]), {"name": "New person"}),
    "interaction": lambda customer: (
        reverse("customers:interaction_create", args=[customer.pk]),
        {"kind": "call", "summary": "Called.", "occurred_at": "2026-01-01T10:00"},
    ),
    "ticket": lambda customer: (reverse("tickets:create"), {"customer": customer.pk, "subject": "Help", **TICKET}),
    "opportunity": lambda customer: (
        reverse("sales:create"),
        {"customer": customer.pk, "name": "Deal", "amount": "1", "currency": "CNY", "stage": "lead"},
    ),
}
TICKET = {"status": "new", "priority": "normal"}
API_BODIES = {
    "contact": ("contacts", {"name": "New person"}),
    "interaction": ("interactions", {"kind": "call", "summary": "Called."}),
    "ticket": ("tickets", {"subject": "Help"}),
    "opportunity": ("opportunities", {"name": "Deal", "amount": "1.00", "currency": "CNY"}),
}


@pytest.mark.parametrize("kind", list(CHILD_FORMS))
def test_a_rep_attaches_new_records_to_own_and_shared_customers_only_in_both_ways_in(kind, tenant, records):
    rep = make_member(tenant, role="rep")
    own = RecordMaker(tenant, rep).customer(name="Own")
    shared = records.customer(name="Shared")
    hidden = records.customer(name="Hidden")
    records._run(customer_actions.share_customer, shared, rep)
    browser, api = login(rep), token_client(tenant, rep)
    prefix, body = API_BODIES[kind]
    for customer, visible in ((own, True), (shared, True), (hidden, False)):
        url, data = CHILD_FORMS[kind](customer)
        response = browser.post(url, data)
        assert (response.status_code == 302) is visible, (kind, customer.name, response.status_code)
        response = api.post(f"/api/v1/{prefix}/", {**body, "customer": customer.pk}, format="json")
        assert response.status_code == (201 if visible else 400), (kind, customer.name, response.content)


def test_support_files_tickets_on_any_customer_but_adds_nothing_else(tenant, records):
    support = make_member(tenant, role="support")
    customer = records.customer()
    browser, api = login(support), token_client(tenant, support)
    url, data = CHILD_FORMS["ticket"](customer)
    assert browser.post(url, data).status_code == 302
    assert (
        api.post("/api/v1/tickets/", {"subject": "Via API", "customer": customer.pk}, format="json").status_code == 201
    )
    for kind in ("contact", "interaction", "opportunity"):
        url, data = CHILD_FORMS[kind](customer)
        assert browser.post(url, data).status_code == 403, kind
        prefix, body = API_BODIES[kind]
        error_of(api.post(f"/api/v1/{prefix}/", {**body, "customer": customer.pk}, format="json"), 403)


# -- sharing -------------------------------------------------------------------------------------------------


def test_sharing_a_customer_writes_history_and_an_audit_event(tenant, records, admin_user):
    rep = make_member(tenant, role="rep")
    customer = records.customer()
    records._run(customer_actions.share_customer, customer, rep)
    share = CustomerShare.all_objects.get(customer=customer, user=rep)
    assert [row.history_type for row in share.history.all()] == ["+"]
    event = AuditEvent.objects.get(tenant=tenant, action=AuditEvent.Action.SHARE)
    assert (event.object_type, event.object_id, event.actor, event.detail) == (
        "customer",
        str(customer.pk),
        admin_user,
        {"user_id": rep.pk},
    )

    records._run(customer_actions.unshare_customer, customer, rep)
    assert not CustomerShare.all_objects.filter(customer=customer, user=rep).exists()
    assert CustomerShare.history.filter(id=share.pk, history_type="-").count() == 1
    assert AuditEvent.objects.filter(tenant=tenant, action=AuditEvent.Action.UNSHARE).count() == 1


def test_only_the_owner_managers_and_admins_share_a_customer(tenant, records):
    owner, other_rep, viewer = (make_member(tenant, role=role) for role in ("rep", "rep", "viewer"))
    customer = RecordMaker(tenant, owner).customer()
    for stranger in (other_rep, viewer):
        with pytest.raises(customer_actions.PermissionDenied):
            records._run(customer_actions.share_customer, customer, stranger, acting_user=stranger)
    records._run(customer_actions.share_customer, customer, other_rep, acting_user=owner)
    with pytest.raises(customer_actions.ValidationError):
        records._run(customer_actions.share_customer, customer, make_user(), acting_user=owner)  # not a member


# -- interactions are signed by whoever logs them --------------------------------------------------------


def test_the_api_signs_an_interaction_with_the_requesting_user_whatever_the_body_says(tenant, records, admin_user):
    rep = make_member(tenant, role="rep")
    customer = RecordMaker(tenant, rep).customer()
    api = token_client(tenant, rep)
    body = {"customer": customer.pk, "kind": "call", "summary": "Mine", "author": admin_user.pk}
    response = api.post("/api/v1/interactions/", body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["author"] == rep.pk
    interaction_id = response.json()["id"]
    response = api.patch(f"/api/v1/interactions/{interaction_id}/", {"author": admin_user.pk}, format="json")
    assert response.status_code == 200 and response.json()["author"] == rep.pk
    with activate(tenant):
        assert Interaction.objects.get(pk=interaction_id).author == rep


# -- the Django admin saves through the actions ------------------------------------------------------------------


@pytest.fixture
def staff_client(db):
    staff = make_user("operator")
    staff.is_staff = staff.is_superuser = True
    staff.save()
    client = Client()
    assert client.login(username="operator", password=PASSWORD)
    client.user = staff
    return client


def admin_form(tenant, **changes) -> dict:
    memberships = list(Membership.objects.filter(tenant=tenant).order_by("pk"))
    data = {
        "name": tenant.name,
        "retention_days": tenant.retention_days,
        "memberships-TOTAL_FORMS": len(memberships),
        "memberships-INITIAL_FORMS": len(memberships),
        "memberships-MIN_NUM_FORMS": 0,
        "memberships-MAX_NUM_FORMS": 1000,
    }
    if tenant.legal_hold:
        data["legal_hold"] = "on"
    for index, membership in enumerate(memberships):
        data[f"memberships-{index}-id"] = membership.pk
        data[f"memberships-{index}-tenant"] = tenant.pk
        data[f"memberships-{index}-role"] = membership.role
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_the_django_admin_changes_company_settings_through_the_action(staff_client, tenant, admin_user):
    url = reverse("admin:tenancy_tenant_change", args=[tenant.pk])
    response = staff_client.post(url, admin_form(tenant, legal_hold="on", retention_days=90))
    assert response.status_code == 302, response.content.decode()[:3000]
    tenant.refresh_from_db()
    assert (tenant.legal_hold, tenant.retention_days) == (True, 90)
    event = AuditEvent.objects.get(tenant=tenant, action=AuditEvent.Action.SETTINGS)
    assert event.actor == staff_client.user and event.detail == {"legal_hold": True, "retention_days": 90}


def test_the_django_admin_changes_roles_through_the_action(staff_client, tenant, admin_user):
    rep = make_member(tenant, role="rep")
    index = list(Membership.objects.filter(tenant=tenant).order_by("pk").values_list("user", flat=True)).index(rep.pk)
    url = reverse("admin:tenancy_tenant_change", args=[tenant.pk])
    response = staff_client.post(url, admin_form(tenant, **{f"memberships-{index}-role": "admin"}))
    assert response.status_code == 302, response.content.decode()[:3000]
    assert Membership.objects.get(tenant=tenant, user=rep).role == "admin"
    event = AuditEvent.objects.filter(tenant=tenant, action=AuditEvent.Action.MEMBERSHIP).latest("seq")
    assert event.actor == staff_client.user
    assert event.detail == {"user_id": rep.pk, "role": "admin", "previous_role": "rep"}


def test_the_django_admin_keeps_one_admin_in_every_company(staff_client, tenant, admin_user):
    url = reverse("admin:tenancy_tenant_change", args=[tenant.pk])
    response = staff_client.post(url, admin_form(tenant, **{"memberships-0-role": "viewer"}))
    assert response.status_code == 200
    assert "at least one admin" in response.content.decode()
    assert Membership.objects.get(tenant=tenant, user=admin_user).role == "admin"


def test_the_django_admin_shows_no_company_records(staff_client):
    assert staff_client.get("/admin/customers/customer/").status_code == 404
    assert Customer._meta.label not in staff_client.get("/admin/").content.decode()
