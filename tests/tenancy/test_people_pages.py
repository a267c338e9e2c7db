"""Company settings -> People: who sees it, what admins change there, and what the changed
person notices at once (sessions, tokens); the invitation link; temporary passwords."""

import re

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from crm.tenancy.actions import api_token_for, update_tenant_settings
from crm.tenancy.models import Invitation, Membership
from crm.tenancy.people_actions import create_member_with_temporary_password
from tests.api.conftest import key_client
from tests.conftest import login
from tests.factories import make_member

pytestmark = pytest.mark.django_db
PEOPLE = reverse("tenancy:people")


def member_of(tenant, user) -> Membership:
    return Membership.objects.get(tenant=tenant, user=user)


def test_admins_see_each_members_role_status_last_sign_in_and_two_factor(tenant, admin_user):
    rep = make_member(tenant, "rep", role="rep")
    TOTPDevice.objects.create(user=rep, name="authenticator", confirmed=True)
    client = login(admin_user)
    page = client.get(PEOPLE).content.decode()
    rows = dict(re.findall(r'data-username="([^"]+)">(.*?)</tr>', page, re.S))
    assert set(rows) == {"alice", "rep"}
    assert 'value="rep" selected' in rows["rep"] and "never" in rows["rep"]
    assert re.search(r'person-two-factor">on<', rows["rep"]) and re.search(r'person-two-factor">off<', rows["alice"])
    assert re.search(r'person-status">active<', rows["rep"])
    assert 'data-testid="invite-form"' in page and 'data-testid="new-member-form"' in page


def test_the_list_costs_the_same_queries_for_many_people(tenant, admin_user):
    client = login(admin_user)
    client.get(PEOPLE)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(PEOPLE).status_code == 200
        return len(captured)

    few = queries()
    for number in range(6):
        make_member(tenant, f"more{number}", role="viewer")
    assert queries() == few


def test_managers_read_the_list_but_change_nothing(tenant, admin_user, member_client):
    manager = member_client("manager")
    page = manager.get(PEOPLE)
    assert page.status_code == 200 and "alice" in page.content.decode()
    assert 'data-testid="invite-form"' not in page.content.decode()
    target = member_of(tenant, admin_user).pk
    assert manager.post(reverse("tenancy:people_role", args=[target]), {"role": "viewer"}).status_code == 403
    assert manager.post(reverse("tenancy:people_invite"), {"invite-email": "x@example.com"}).status_code == 403
    assert member_of(tenant, admin_user).role == "admin"


@pytest.mark.parametrize("role", ["rep", "support", "viewer"])
def test_other_roles_get_403(member_client, role):
    assert member_client(role).get(PEOPLE).status_code == 403


def test_another_companys_member_is_404(tenant, admin_user, other_records):
    bob = member_of(other_records.tenant, other_records.actor)
    client = login(admin_user)
    for name in ("people_role", "people_deactivate", "people_remove"):
        assert client.post(reverse(f"tenancy:{name}", args=[bob.pk]), {"role": "viewer"}).status_code == 404
    assert member_of(other_records.tenant, other_records.actor).is_active


def test_the_last_admin_is_refused_with_a_message_not_an_error(tenant, admin_user):
    client = login(admin_user)
    response = client.post(reverse("tenancy:people_remove", args=[member_of(tenant, admin_user).pk]), follow=True)
    assert response.status_code == 200
    assert "at least one admin" in response.content.decode()
    assert member_of(tenant, admin_user).role == "admin"


def test_changing_a_role_takes_effect_on_the_members_next_request(tenant, admin_user, member_client):
    rep = member_client("rep")
    assert rep.get(PEOPLE).status_code == 403
    client = login(admin_user)
    client.post(reverse("tenancy:people_role", args=[member_of(tenant, rep.user).pk]), {"role": "manager"})
    assert rep.get(PEOPLE).status_code == 200


@pytest.mark.parametrize("change", ["people_deactivate", "people_remove"])
def test_deactivating_or_removing_ends_the_members_session_and_tokens_at_once(
    tenant, admin_user, member_client, change
):
    rep = member_client("rep")
    token = api_token_for(tenant, rep.user.username, acting_user=None)
    assert rep.get(reverse("customers:list")).status_code == 200
    login(admin_user).post(reverse(f"tenancy:{change}", args=[member_of(tenant, rep.user).pk]))
    response = rep.get(reverse("customers:list"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert "_auth_user_id" not in rep.session
    assert key_client(token.key).get("/api/v1/customers/").status_code == 401
    # Signing in again does not get them into the company either.
    assert login(rep.user).get(reverse("customers:list")).status_code == 403


def test_a_reactivated_member_works_again(tenant, admin_user, member_client):
    rep = member_client("rep")
    admin = login(admin_user)
    pk = member_of(tenant, rep.user).pk
    admin.post(reverse("tenancy:people_deactivate", args=[pk]))
    assert "deactivated" in admin.get(PEOPLE).content.decode()
    admin.post(reverse("tenancy:people_reactivate", args=[pk]))
    assert login(rep.user).get(reverse("customers:list")).status_code == 200


# -- invitations ---------------------------------------------------------------------------------


def invite_through_the_page(client, django_capture_on_commit_callbacks, email="invitee@example.com", role="rep"):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("tenancy:people_invite"), {"invite-email": email, "invite-role": role})
    assert response.status_code == 302
    return re.search(r"https?://\S+/accounts/invitation/\w+/", mail.outbox[-1].body).group(0)


def test_invite_accept_and_sign_in(tenant, admin_user, django_capture_on_commit_callbacks):
    link = invite_through_the_page(login(admin_user), django_capture_on_commit_callbacks)
    assert mail.outbox[-1].to == ["invitee@example.com"] and "Alpha Ltd" in mail.outbox[-1].subject
    visitor = Client()
    assert "Join Alpha Ltd" in visitor.get(link).content.decode()
    form = {"username": "invitee", "password": "a-long-new-password", "password_again": "a-long-new-password"}
    assert visitor.post(link, form)["Location"] == reverse("login")
    assert Client().login(username="invitee", password="a-long-new-password")
    assert Membership.objects.get(tenant=tenant, user__username="invitee").role == "rep"
    assert visitor.get(link).status_code == 410  # used once


def test_a_bad_accept_form_keeps_what_was_typed(tenant, admin_user, django_capture_on_commit_callbacks):
    link = invite_through_the_page(login(admin_user), django_capture_on_commit_callbacks)
    response = Client().post(link, {"username": "invitee", "password": "a-long-password", "password_again": "other"})
    assert response.status_code == 400
    assert "The two passwords differ." in response.content.decode() and 'value="invitee"' in response.content.decode()
    assert not Invitation.objects.get().accepted_at


def test_a_signed_in_person_joins_with_their_account(
    tenant, admin_user, other_records, django_capture_on_commit_callbacks
):
    link = invite_through_the_page(login(admin_user), django_capture_on_commit_callbacks, email="bob@example.com")
    bob = login(other_records.actor)
    assert "Join with this account" in bob.get(link).content.decode()
    assert bob.post(link)["Location"] == reverse("dashboard")
    assert member_of(tenant, other_records.actor).role == "rep"


def test_a_bad_invitation_form_is_a_form_error(tenant, admin_user):
    response = login(admin_user).post(reverse("tenancy:people_invite"), {"invite-email": "nope", "invite-role": "rep"})
    assert response.status_code == 400 and 'value="nope"' in response.content.decode()
    assert not Invitation.objects.exists() and not mail.outbox


def test_an_unknown_link_is_410():
    assert Client().get(reverse("tenancy:invitation", args=["f" * 40])).status_code == 410


# -- temporary passwords -------------------------------------------------------------------------


def test_a_temporary_password_is_shown_once_and_must_be_changed_at_first_sign_in(tenant, admin_user):
    admin = login(admin_user)
    page = admin.post(reverse("tenancy:people_create"), {"new-username": "shopfloor", "new-role": "support"})
    password = re.search(r'temporary-password-value">([^<]+)<', page.content.decode()).group(1)
    assert password not in admin.get(PEOPLE).content.decode()
    person = Client()
    person.post(reverse("login"), {"username": "shopfloor", "password": password})
    response = person.get(reverse("customers:list"))
    assert response.status_code == 302 and response["Location"] == reverse("password_change")
    form = {"old_password": password, "new_password1": "my-own-long-password", "new_password2": "my-own-long-password"}
    assert person.post(reverse("password_change"), form).status_code == 302
    assert person.get(reverse("customers:list")).status_code == 200
    again = Client()
    again.post(reverse("login"), {"username": "shopfloor", "password": "my-own-long-password"})
    assert again.get(reverse("customers:list")).status_code == 200


def test_a_taken_username_is_a_form_error(tenant, admin_user):
    response = login(admin_user).post(reverse("tenancy:people_create"), {"new-username": "alice", "new-role": "rep"})
    assert response.status_code == 400 and "This username is taken" in response.content.decode()


def test_temporary_password_and_invitation_pages_need_an_admin(member_client):
    manager = member_client("manager")
    assert manager.post(reverse("tenancy:people_create"), {"new-username": "x", "new-role": "rep"}).status_code == 403


def test_where_two_factor_is_required_a_temporary_password_user_enrols_first_without_a_loop(tenant, admin_user):
    update_tenant_settings(tenant, mfa_required="everyone", acting_user=None)
    _member, password = create_member_with_temporary_password(tenant, "till", role="rep", acting_user=None)
    person = Client()
    person.post(reverse("login"), {"username": "till", "password": password})
    response = person.get(reverse("customers:list"), follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0].startswith(reverse("tenancy:mfa_setup"))
