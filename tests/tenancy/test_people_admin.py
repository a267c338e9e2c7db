"""The Django admin changes a company's people only through the actions (audited), and shows
memberships, API tokens and invitations read-only."""

import pytest
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from crm.tenancy import people_actions
from crm.tenancy.actions import api_token_for
from crm.tenancy.context import activate
from crm.tenancy.models import ApiToken, Invitation, Membership
from tests.factories import PASSWORD, make_member, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(db):
    operator = make_user("operator")
    operator.is_staff = operator.is_superuser = True
    operator.save()
    client = Client()
    assert client.login(username="operator", password=PASSWORD)
    client.user = operator
    return client


def latest_membership_event(tenant):
    return AuditEvent.objects.filter(tenant=tenant, action=AuditEvent.Action.MEMBERSHIP).latest("seq")


def test_deactivating_in_the_admin_goes_through_the_action(staff, tenant, admin_user):
    rep = make_member(tenant, "rep", role="rep")
    token = api_token_for(tenant, "rep", acting_user=None)
    membership = Membership.objects.get(tenant=tenant, user=rep)
    changelist = reverse("admin:tenancy_membership_changelist")
    response = staff.post(changelist, {"action": "deactivate", "_selected_action": [membership.pk]})
    assert response.status_code == 302
    assert not Membership.objects.get(pk=membership.pk).is_active
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
    event = latest_membership_event(tenant)
    assert (event.actor_id, event.detail["active"], event.detail["user_id"]) == (staff.user.pk, False, rep.pk)
    staff.post(changelist, {"action": "reactivate", "_selected_action": [membership.pk]})
    assert Membership.objects.get(pk=membership.pk).is_active


def test_the_admin_cannot_deactivate_the_last_admin(staff, tenant, admin_user):
    alice = Membership.objects.get(tenant=tenant, user=admin_user)
    changelist = reverse("admin:tenancy_membership_changelist")
    response = staff.post(changelist, {"action": "deactivate", "_selected_action": [alice.pk]}, follow=True)
    assert "at least one admin" in response.content.decode()
    assert Membership.objects.get(pk=alice.pk).is_active


def test_removing_in_the_tenant_admin_goes_through_the_action(staff, tenant, admin_user):
    from tests.test_one_rule_per_operation import admin_form

    rep = make_member(tenant, "rep", role="rep")
    token = api_token_for(tenant, "rep", acting_user=None)
    index = list(Membership.objects.filter(tenant=tenant).order_by("pk").values_list("user", flat=True)).index(rep.pk)
    url = reverse("admin:tenancy_tenant_change", args=[tenant.pk])
    response = staff.post(url, admin_form(tenant, **{f"memberships-{index}-DELETE": "on"}))
    assert response.status_code == 302, response.content.decode()[:2000]
    assert not Membership.objects.filter(tenant=tenant, user=rep).exists()
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
    event = latest_membership_event(tenant)
    assert (event.actor_id, event.detail) == (staff.user.pk, {"user_id": rep.pk, "role": None, "previous_role": "rep"})


def test_memberships_tokens_and_invitations_are_read_only_in_the_admin(staff, tenant, admin_user):
    membership = Membership.objects.get(tenant=tenant, user=admin_user)
    token = api_token_for(tenant, admin_user.username, acting_user=None)
    with activate(tenant, user=admin_user):
        invitation = people_actions.invite_member(
            tenant, "x@example.com", role="rep", base_url="http://testserver/", acting_user=admin_user
        )
    for name, obj in (("membership", membership), ("apitoken", token), ("invitation", invitation)):
        url = reverse(f"admin:tenancy_{name}_change", args=[obj.pk])
        assert staff.get(url).status_code == 200
        assert staff.post(url, {"role": "viewer", "name": "changed"}).status_code == 403
        assert staff.get(reverse(f"admin:tenancy_{name}_add")).status_code == 403
    assert Membership.objects.get(pk=membership.pk).role == "admin"


def test_deleting_an_invitation_in_the_admin_withdraws_it(staff, tenant, admin_user):
    with activate(tenant, user=admin_user):
        invitation = people_actions.invite_member(
            tenant, "x@example.com", role="rep", base_url="http://testserver/", acting_user=admin_user
        )
    url = reverse("admin:tenancy_invitation_delete", args=[invitation.pk])
    assert staff.post(url, {"post": "yes"}).status_code == 302
    assert Invitation.objects.get(pk=invitation.pk).revoked_at is not None
    event = AuditEvent.objects.filter(tenant=tenant, action=AuditEvent.Action.INVITED).latest("seq")
    assert (event.actor_id, event.detail["status"]) == (staff.user.pk, "revoked")
    assert people_actions.usable_invitation(invitation.key) is None
