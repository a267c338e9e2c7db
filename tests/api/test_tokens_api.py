"""`/api/v1/tokens/`: one's own tokens (admins: all of the company's); other companies' are 404."""

from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from crm.tenancy.actions import create_api_token
from crm.tenancy.models import ApiToken
from tests.api.conftest import error_of, key_client

pytestmark = pytest.mark.django_db


def test_creating_a_token_shows_its_key_once(api):
    expiry = (timezone.now() + timedelta(days=7)).isoformat()
    response = api.post("/api/v1/tokens/", {"name": "warehouse", "scope": "read", "expires_at": expiry})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["key"].startswith(body["prefix"]) and body["scope"] == "read" and body["active"]
    assert key_client(body["key"]).get("/api/v1/whoami/").status_code == 200
    listed = api.get(f"/api/v1/tokens/{body['id']}/").json()
    assert "key" not in listed and listed["name"] == "warehouse"
    assert AuditEvent.objects.filter(action=AuditEvent.Action.TOKEN_CREATED, object_id=str(body["id"])).exists()


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"name": ""}, "name"),
        ({"name": "x", "scope": "admin"}, "scope"),
        ({"name": "x", "expires_at": "2001-01-01T00:00:00Z"}, "expires_at"),
        ({"name": "a\x00b"}, "name"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(api, payload, field):
    error = error_of(api.post("/api/v1/tokens/", payload), 400)
    assert field in error["fields"], error


@pytest.mark.parametrize("role", ["manager", "rep", "support", "viewer"])
def test_only_admins_reach_other_members_tokens(api, api_as, role):
    other = api_as(role)
    assert [t["id"] for t in other.get("/api/v1/tokens/").json()["results"]] == [other.token.pk]
    everyone = {t["username"] for t in api.get("/api/v1/tokens/").json()["results"]}
    assert everyone == {api.user.username, other.user.username}
    error_of(other.delete(f"/api/v1/tokens/{api.token.pk}/"), 404)
    assert api.get("/api/v1/whoami/").status_code == 200
    assert api.delete(f"/api/v1/tokens/{other.token.pk}/").status_code == 204
    assert other.get("/api/v1/whoami/").status_code == 401


def test_revoking_one_s_own_token_over_the_api(api):
    assert api.delete(f"/api/v1/tokens/{api.token.pk}/").status_code == 204
    assert api.get("/api/v1/whoami/").status_code == 401
    assert ApiToken.objects.get(pk=api.token.pk).revoked_at is not None


def test_another_company_s_token_is_404(api, other_api):
    for method in ("get", "delete"):
        error_of(getattr(api, method)(f"/api/v1/tokens/{other_api.token.pk}/"), 404)
    assert other_api.get("/api/v1/whoami/").status_code == 200
    assert other_api.token.pk not in [t["id"] for t in api.get("/api/v1/tokens/").json()["results"]]


def test_a_read_only_token_can_list_but_not_create_or_revoke(tenant, admin_user, api):
    token = create_api_token(tenant, admin_user, name="ro", scope="read", acting_user=None)
    reader = key_client(token.key)
    assert reader.get("/api/v1/tokens/").status_code == 200
    error_of(reader.post("/api/v1/tokens/", {"name": "escalate", "scope": "write"}), 403)
    error_of(reader.delete(f"/api/v1/tokens/{api.token.pk}/"), 403)


def test_the_tokens_endpoints_are_in_the_openapi_schema(api):
    paths = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/tokens/"])
    assert {"get", "delete"} <= set(paths["/api/v1/tokens/{id}/"])
