"""API test helpers: token clients (real tokens, real Redis throttling, real PostgreSQL)."""

import pytest
from rest_framework.test import APIClient

from crm.tenancy.actions import api_token_for
from tests.factories import make_member


def key_client(key: str) -> APIClient:
    """An API client sending `Authorization: Token <key>`."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def token_client(tenant, user) -> APIClient:
    """An API client with a new token of `user` in `tenant` (`client.token`)."""
    token = api_token_for(tenant, user.username, acting_user=None)
    client = key_client(token.key)
    client.user = user
    client.tenant = tenant
    client.token = token
    return client


@pytest.fixture
def api(tenant, admin_user):
    """The admin of `tenant`, through the API."""
    return token_client(tenant, admin_user)


@pytest.fixture
def api_as(tenant):
    """api_as(role) -> a token client of a new member of `tenant` with that role."""

    def make(role, username=None):
        return token_client(tenant, make_member(tenant, username, role=role))

    return make


@pytest.fixture
def other_api(other_tenant, other_records):
    """The admin of the other tenant (bob), through the API."""
    return token_client(other_tenant, other_records.actor)


def error_of(response, status):
    """Assert the one error format and the status; return the `error` object."""
    assert response.status_code == status, (response.status_code, getattr(response, "content", b"")[:2000])
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert {"code", "message", "fields"} <= set(error), error
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["fields"], dict)
    return error
