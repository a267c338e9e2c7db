"""The people of a company: the last-admin rule (also under concurrent requests), invitations,
temporary passwords, deactivation, and the audit events each change leaves."""

import threading
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone

from audit.models import AuditEvent
from crm.tenancy import people_actions
from crm.tenancy.actions import add_member, api_token_for, remove_member, set_member_role
from crm.tenancy.context import activate
from crm.tenancy.models import ApiToken, Invitation, Membership, PasswordChangeRequired
from tests.factories import make_member, make_tenant, make_user
from tests.test_bin_edges import in_thread, waiting_for_a_lock
from tests.trail import Trail

BASE = "https://crm.example.com/"


def membership(tenant, user) -> Membership:
    return Membership.objects.select_related("tenant", "user").get(tenant=tenant, user=user)


def membership_events(tenant):
    return list(AuditEvent.objects.filter(tenant=tenant, action=AuditEvent.Action.MEMBERSHIP).order_by("seq"))


# -- the last admin ------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "change",
    [
        lambda m: set_member_role(m, "manager", acting_user=None),
        lambda m: people_actions.deactivate_member(m, acting_user=None),
        lambda m: remove_member(m, acting_user=None),
    ],
    ids=["demote", "deactivate", "remove"],
)
def test_the_last_active_admin_cannot_be_demoted_deactivated_or_removed(tenant, admin_user, change):
    with pytest.raises(ValidationError, match="at least one admin"):
        change(membership(tenant, admin_user))
    alice = membership(tenant, admin_user)
    assert (alice.role, alice.is_active) == ("admin", True)


@pytest.mark.django_db
def test_a_deactivated_admin_does_not_count_as_the_other_admin(tenant, admin_user):
    second = make_member(tenant, "second-admin", role="admin")
    people_actions.deactivate_member(membership(tenant, second), acting_user=None)
    with pytest.raises(ValidationError):
        set_member_role(membership(tenant, admin_user), "rep", acting_user=None)


@pytest.mark.django_db
def test_with_a_second_admin_the_first_may_step_down(tenant, admin_user):
    make_member(tenant, "second-admin", role="admin")
    set_member_role(membership(tenant, admin_user), "viewer", acting_user=None)
    assert membership(tenant, admin_user).role == "viewer"


@pytest.mark.django_db(transaction=True)
def test_two_admins_demoting_each_other_at_once_leave_one_admin():
    """The first demotion holds the company's people lock until it commits; the second waits
    for it, then sees one admin left and is refused."""
    tenant = make_tenant("race-people")
    first, second = make_member(tenant, "first", role="admin"), make_member(tenant, "second", role="admin")
    results, demoted, release = {}, threading.Event(), threading.Event()

    def first_demotes_second():
        with activate(tenant, user=first, process="tests"), transaction.atomic():
            set_member_role(membership(tenant, second), "rep", acting_user=first)
            demoted.set()
            release.wait(10)

    def second_demotes_first():
        with activate(tenant, user=second, process="tests"):
            return set_member_role(membership(tenant, first), "rep", acting_user=second)

    holder = in_thread(first_demotes_second, results, "first")
    assert demoted.wait(10)
    racer = in_thread(second_demotes_first, results, "second")
    waiting_for_a_lock()
    release.set()
    holder.join(20)
    racer.join(20)
    connection.close()
    assert isinstance(results["second"], ValidationError)
    roles = dict(Membership.objects.filter(tenant=tenant).values_list("user__username", "role"))
    assert roles == {"first": "admin", "second": "rep"}
    assert [event.detail["user_id"] for event in membership_events(tenant)][-1] == second.pk


# -- role changes, deactivation, removal ---------------------------------------------------------


@pytest.mark.django_db
def test_a_role_change_is_one_audit_event_naming_who_whose_old_and_new_role(tenant, admin_user):
    rep = make_member(tenant, "rep", role="rep")
    with Trail(tenant) as trail, activate(tenant, user=admin_user):
        set_member_role(membership(tenant, rep), "manager", acting_user=admin_user)
    [event] = trail.event_objects
    assert (event.action, event.actor_id) == (AuditEvent.Action.MEMBERSHIP, admin_user.pk)
    assert event.detail == {"user_id": rep.pk, "role": "manager", "previous_role": "rep"}


@pytest.mark.django_db
def test_deactivating_revokes_the_members_tokens_in_that_company_only(tenant, other_tenant, admin_user):
    rep = make_member(tenant, "rep", role="rep")
    add_member(other_tenant, "rep", role="rep", acting_user=None)
    here, elsewhere = (
        api_token_for(tenant, "rep", acting_user=None),
        api_token_for(other_tenant, "rep", acting_user=None),
    )
    with Trail(tenant) as trail:
        people_actions.deactivate_member(membership(tenant, rep), acting_user=None)
    assert ApiToken.objects.get(pk=here.pk).revoked_at is not None
    assert ApiToken.objects.get(pk=elsewhere.pk).revoked_at is None
    assert [event[0] for event in trail.events] == ["token_revoked", "membership"]
    assert trail.event_objects[-1].detail == {"user_id": rep.pk, "role": "rep", "previous_role": "rep", "active": False}
    people_actions.reactivate_member(membership(tenant, rep), acting_user=None)
    assert membership(tenant, rep).is_active
    assert ApiToken.objects.get(pk=here.pk).revoked_at is not None  # old tokens stay revoked


@pytest.mark.django_db
def test_only_the_companys_admins_change_its_people(tenant, admin_user):
    manager = make_member(tenant, "manager", role="manager")
    rep = make_member(tenant, "rep", role="rep")
    with activate(tenant, user=manager), pytest.raises(PermissionDenied):
        people_actions.deactivate_member(membership(tenant, rep), acting_user=manager)
    outsider = make_member(make_tenant("elsewhere"), "outsider", role="admin")
    with pytest.raises(PermissionDenied):
        remove_member(membership(tenant, rep), acting_user=outsider)
    assert membership(tenant, rep).is_active


# -- invitations ---------------------------------------------------------------------------------


def invite(tenant, admin, email="new.person@example.com", role="rep"):
    with activate(tenant, user=admin):
        return people_actions.invite_member(tenant, email, role=role, base_url=BASE, acting_user=admin)


@pytest.mark.django_db
def test_an_invitation_is_emailed_once_committed_and_stores_only_a_digest(
    tenant, admin_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invitation = invite(tenant, admin_user)
    [message] = mail.outbox
    assert message.to == ["new.person@example.com"]
    assert invitation.link.startswith(BASE + "accounts/invitation/") and invitation.key in message.body
    stored = Invitation.objects.get(pk=invitation.pk)
    assert invitation.key not in (stored.digest, stored.email)
    [event] = AuditEvent.objects.filter(tenant=tenant, action=AuditEvent.Action.INVITED)
    assert event.detail == {"invitation_id": invitation.pk, "role": "rep", "status": "sent"}
    assert "new.person@example.com" not in str(event.detail)


@pytest.mark.django_db
def test_accepting_creates_the_account_and_membership_and_works_once(tenant, admin_user):
    invitation = invite(tenant, admin_user, role="support")
    joined = people_actions.accept_invitation(
        invitation.key, acting_user=None, username="newbie", password="a-long-new-password"
    )
    assert (joined.role, joined.user.username, joined.user.email) == ("support", "newbie", "new.person@example.com")
    assert joined.user.check_password("a-long-new-password")
    last = membership_events(tenant)[-1]
    assert (last.actor_id, last.detail["invitation_id"], last.detail["new_user"]) == (
        joined.user_id,
        invitation.pk,
        True,
    )
    with pytest.raises(ValidationError, match="expired or was already used"):
        people_actions.accept_invitation(invitation.key, acting_user=None, username="again", password="x-long-pass-9")


@pytest.mark.django_db
def test_an_existing_account_joins_with_the_link(tenant, admin_user):
    existing = make_user("has-an-account")
    invitation = invite(tenant, admin_user, role="viewer")
    people_actions.accept_invitation(invitation.key, acting_user=existing)
    assert membership(tenant, existing).role == "viewer"


@pytest.mark.django_db
def test_an_expired_or_withdrawn_invitation_cannot_be_used(tenant, admin_user):
    expired = invite(tenant, admin_user, email="late@example.com")
    withdrawn = invite(tenant, admin_user, email="withdrawn@example.com")
    people_actions.revoke_invitation(withdrawn, acting_user=None)
    with time_machine.travel(timezone.now() + timedelta(days=people_actions.INVITATION_DAYS, minutes=1)):
        assert people_actions.usable_invitation(expired.key) is None
    assert people_actions.usable_invitation(withdrawn.key) is None
    assert people_actions.usable_invitation("0" * 40) is None
    statuses = [e.detail["status"] for e in AuditEvent.objects.filter(tenant=tenant, action="invited").order_by("seq")]
    assert statuses == ["sent", "sent", "revoked"]


@pytest.mark.django_db
def test_a_bad_invitation_gets_a_field_error(tenant, admin_user):
    with pytest.raises(ValidationError) as refused:
        invite(tenant, admin_user, email="not an address")
    assert "email" in refused.value.error_dict
    with pytest.raises(ValidationError) as refused:
        invite(tenant, admin_user, email="x@example.com", role="owner")
    assert "Unknown role" in str(refused.value)


# -- temporary passwords -------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_user_with_a_temporary_password_must_change_it(tenant, admin_user):
    with activate(tenant, user=admin_user):
        member, password = people_actions.create_member_with_temporary_password(
            tenant, "no-email", role="rep", acting_user=admin_user
        )
    assert member.user.check_password(password) and len(password) == people_actions.TEMPORARY_PASSWORD_LENGTH
    assert PasswordChangeRequired.objects.filter(user=member.user).exists()
    event = membership_events(tenant)[-1]
    assert event.detail == {"user_id": member.user_id, "role": "rep", "previous_role": None, "temporary_password": True}
    assert password not in str(event.detail)
