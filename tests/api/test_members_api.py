"""`/api/v1/members/`: admins list, invite, create, change and remove; managers read; the
other roles get 403; another company's members are 404. The same actions as the People page."""

import pytest
from django.core import mail

from audit.models import AuditEvent
from crm.tenancy.models import ApiToken, Membership, PasswordChangeRequired
from tests.api.conftest import error_of

pytestmark = pytest.mark.django_db
MEMBERS = "/api/v1/members/"


def member_id(tenant, user) -> int:
    return Membership.objects.get(tenant=tenant, user=user).pk


def test_admins_list_the_members_with_role_status_and_two_factor(api, api_as):
    rep = api_as("rep", "rep-one")
    body = api.get(MEMBERS).json()
    assert body["count"] == 2
    by_name = {member["username"]: member for member in body["results"]}
    assert by_name["rep-one"]["role"] == "rep" and by_name["rep-one"]["active"] is True
    assert by_name["rep-one"]["two_factor"] is False and by_name["rep-one"]["user"] == rep.user.pk
    assert set(by_name["alice"]) >= {"id", "email", "name", "last_login", "created_at"}


def test_managers_read_but_cannot_write(api, api_as):
    manager = api_as("manager")
    assert manager.get(MEMBERS).status_code == 200
    alice = member_id(api.tenant, api.user)
    assert manager.get(f"{MEMBERS}{alice}/").json()["role"] == "admin"
    error_of(manager.post(MEMBERS, {"email": "x@example.com", "role": "admin"}), 403)
    error_of(manager.patch(f"{MEMBERS}{alice}/", {"role": "viewer"}), 403)
    error_of(manager.delete(f"{MEMBERS}{alice}/"), 403)
    assert Membership.objects.get(pk=alice).role == "admin"


@pytest.mark.parametrize("role", ["rep", "support", "viewer"])
def test_other_roles_get_403_even_for_reading(api, api_as, role):
    client = api_as(role)
    error_of(client.get(MEMBERS), 403)
    error_of(client.get(f"{MEMBERS}{member_id(api.tenant, api.user)}/"), 403)
    error_of(client.patch(f"{MEMBERS}{member_id(api.tenant, client.user)}/", {"role": "admin"}), 403)
    assert Membership.objects.get(tenant=api.tenant, user=client.user).role == role


def test_another_companys_members_are_404(api, other_api):
    bob = member_id(other_api.tenant, other_api.user)
    error_of(api.get(f"{MEMBERS}{bob}/"), 404)
    error_of(api.patch(f"{MEMBERS}{bob}/", {"active": False}), 404)
    error_of(api.delete(f"{MEMBERS}{bob}/"), 404)
    assert [m["username"] for m in api.get(MEMBERS).json()["results"]] == ["alice"]
    assert Membership.objects.get(pk=bob).is_active


def test_posting_an_email_sends_an_invitation(api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(MEMBERS, {"email": "new@example.com", "role": "support"})
    assert response.status_code == 202, response.json()
    assert response.json()["email"] == "new@example.com" and "key" not in response.json()
    assert mail.outbox[-1].to == ["new@example.com"]
    assert AuditEvent.objects.filter(tenant=api.tenant, action=AuditEvent.Action.INVITED).count() == 1


def test_posting_a_username_creates_a_user_with_a_temporary_password(api):
    response = api.post(MEMBERS, {"username": "warehouse", "role": "viewer"})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["username"] == "warehouse" and body["role"] == "viewer" and len(body["temporary_password"]) >= 12
    assert PasswordChangeRequired.objects.filter(user_id=body["user"]).exists()
    assert "temporary_password" not in api.get(f"{MEMBERS}{body['id']}/").json()


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"role": "rep"}, "email"),
        ({"email": "nope", "role": "rep"}, "email"),
        ({"email": "a@example.com", "role": "owner"}, "role"),
        ({"username": "alice", "role": "rep"}, "username"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(api, payload, field):
    error = error_of(api.post(MEMBERS, payload), 400)
    assert field in error["fields"], error


def test_patch_changes_the_role_with_an_audit_event(api, api_as):
    rep = api_as("rep")
    pk = member_id(api.tenant, rep.user)
    assert api.patch(f"{MEMBERS}{pk}/", {"role": "manager"}).json()["role"] == "manager"
    event = AuditEvent.objects.filter(tenant=api.tenant, action=AuditEvent.Action.MEMBERSHIP).latest("seq")
    assert (event.actor_id, event.detail) == (
        api.user.pk,
        {"user_id": rep.user.pk, "role": "manager", "previous_role": "rep"},
    )


def test_deactivating_stops_the_members_token_and_reactivating_lets_them_in(api, api_as):
    rep = api_as("rep")
    pk = member_id(api.tenant, rep.user)
    assert api.patch(f"{MEMBERS}{pk}/", {"active": False}).json()["active"] is False
    assert rep.get("/api/v1/whoami/").status_code == 401
    assert ApiToken.objects.get(pk=rep.token.pk).revoked_at is not None
    assert api.patch(f"{MEMBERS}{pk}/", {"active": True}).json()["active"] is True


def test_delete_removes_the_member(api, api_as):
    rep = api_as("rep")
    assert api.delete(f"{MEMBERS}{member_id(api.tenant, rep.user)}/").status_code == 204
    assert not Membership.objects.filter(tenant=api.tenant, user=rep.user).exists()
    assert rep.get("/api/v1/whoami/").status_code == 401


@pytest.mark.parametrize("payload", [{"role": "rep"}, {"active": False}])
def test_the_last_admin_is_a_400_with_the_rule(api, payload):
    error = error_of(api.patch(f"{MEMBERS}{member_id(api.tenant, api.user)}/", payload), 400)
    assert "at least one admin" in error["message"]
    error_of(api.delete(f"{MEMBERS}{member_id(api.tenant, api.user)}/"), 400)


def test_the_members_endpoints_are_in_the_openapi_schema(api):
    paths = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/members/"])
    assert {"get", "patch", "delete"} <= set(paths["/api/v1/members/{id}/"])
