"""One error body for every kind of failure, and 4xx (never 5xx) for bad input."""

import re
import time
from types import SimpleNamespace

import pytest
from django.test import Client, override_settings
from rest_framework.test import APIClient

from tests.api.conftest import error_of, token_client
from tests.factories import make_member


def test_validation_errors_name_the_fields(api, records):
    error = error_of(api.post("/api/v1/customers/", {"email": "not-an-email", "tier": "Z"}, format="json"), 400)
    assert error["code"] == "invalid"
    assert set(error["fields"]) == {"name", "email", "tier"}
    assert all(isinstance(messages, list) and messages for messages in error["fields"].values())


def test_nested_errors_are_flattened_with_dotted_names(api, records):
    body = {"items": [{"type": "customer", "id": 1}, {"type": "nope", "id": "x"}]}
    error = error_of(api.post("/api/v1/recycle-bin/restore/", body, format="json"), 400)
    assert set(error["fields"]) == {"items.1.type", "items.1.id"}


def test_malformed_json_is_a_parse_error(api):
    response = api.post("/api/v1/customers/", data='{"name": "x",', content_type="application/json")
    assert error_of(response, 400)["code"] == "parse_error"
    response = api.post("/api/v1/customers/", data='{"name": NaN}', content_type="application/json")
    assert error_of(response, 400)["code"] == "parse_error"


def test_a_non_object_body_is_a_400(api):
    for body in ("[1, 2]", '"text"', "null", "12"):
        error_of(api.post("/api/v1/customers/", data=body, content_type="application/json"), 400)


def test_a_wrong_content_type_is_a_415(api):
    response = api.post("/api/v1/customers/", data="name=x", content_type="application/x-www-form-urlencoded")
    assert error_of(response, 415)["code"] == "unsupported_media_type"
    response = api.post("/api/v1/customers/", data="<x/>", content_type="text/xml")
    error_of(response, 415)


def test_nul_bytes_are_refused(api, records):
    error_of(api.post("/api/v1/customers/", {"name": "a\x00b"}, format="json"), 400)
    error_of(api.post("/api/v1/customers/", {"name": "ok", "tags": ["a\x00"]}, format="json"), 400)
    for params in ({"search": "a\x00"}, {"industry": "\x00"}, {"ord\x00ering": "name"}):
        error_of(api.get("/api/v1/customers/", params), 400)
    error_of(api.get("/api/v1/recycle-bin/", {"search": "\x00"}), 400)


def test_overlong_and_wrongly_typed_input_is_a_400(api, records):
    customer = records.customer()
    for body in (
        {"name": "x" * 201},
        {"name": ["a"]},
        {"name": {"a": 1}},
        {"tags": "vip"},
        {"tags": ["x" * 51]},
        {"tags": ["t"] * 101},
        {"owner": "abc"},
        {"owner": 1.5},
        {"owner": True},
        {"owner": 2**70},
        {"website": "javascript:alert(1)"},
    ):
        error_of(api.patch(f"/api/v1/customers/{customer.pk}/", body, format="json"), 400)
    error_of(api.get("/api/v1/customers/", {"search": "x" * 201}), 400)
    error_of(api.get("/api/v1/customers/", {"owner": str(2**70)}), 400)


def test_huge_and_odd_ids_in_paths_are_404(api):
    for path in ("/api/v1/customers/99999999999999999999/", "/api/v1/customers/-1/", "/api/v1/customers/abc/"):
        assert error_of(api.get(path), 404)["code"] == "not_found"


def test_not_authenticated_is_401(records):
    error = error_of(APIClient().get("/api/v1/customers/"), 401)
    assert error["code"] == "not_authenticated"
    client = APIClient()
    for key in ("nope", "0" * 40, "A" * 40, "0" * 39 + "\u00e9"):
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        assert error_of(client.get("/api/v1/customers/"), 401)["code"] == "authentication_failed", key


def test_a_token_stops_working_when_its_user_leaves_the_company_or_is_deactivated(tenant):
    from crm.tenancy.models import Membership

    client = token_client(tenant, make_member(tenant, role="viewer"))
    assert client.get("/api/v1/whoami/").status_code == 200
    Membership.objects.filter(user=client.user).delete()
    error = error_of(client.get("/api/v1/whoami/"), 401)
    assert "no longer a member" in error["message"]

    client = token_client(tenant, make_member(tenant, role="viewer"))
    client.user.is_active = False
    client.user.save()
    assert "inactive" in error_of(client.get("/api/v1/whoami/"), 401)["message"]


def test_a_token_acts_as_its_user_in_its_company(tenant, other_tenant):
    from crm.tenancy.actions import add_member

    user = make_member(tenant, role="viewer")
    add_member(other_tenant, user.username, role="admin", acting_user=None)
    body = token_client(tenant, user).get("/api/v1/whoami/").json()
    assert body == {"username": user.username, "tenant": tenant.slug, "role": "viewer"}
    body = token_client(other_tenant, user).get("/api/v1/whoami/").json()
    assert body == {"username": user.username, "tenant": other_tenant.slug, "role": "admin"}


def test_a_user_without_a_company_is_403_not_500(tenant):
    from tests.factories import PASSWORD, make_user

    loner = make_user()
    client = Client()
    assert client.login(username=loner.username, password=PASSWORD)
    error = error_of(client.get("/api/v1/customers/"), 403)
    assert error["code"] == "permission_denied"


def test_session_auth_works_for_the_browser(admin_user, records):
    from tests.conftest import login

    records.customer()
    response = login(admin_user).get("/api/v1/customers/")
    assert response.status_code == 200
    assert response.json()["count"] == 1


def test_method_not_allowed_is_405(api):
    error = error_of(api.put("/api/v1/customers/", {}, format="json"), 405)
    assert error["code"] == "method_not_allowed"


def test_django_level_404_under_api_is_json(api):
    error = error_of(api.get("/api/v2/anything/"), 404)
    assert error["code"] == "not_found"
    error = error_of(Client().post("/api/v1/nothing-here/", data="x", content_type="text/plain"), 404)
    assert "did you mean" in error_of(api.get("/api/v1/customers"), 404)["message"]


def test_page_past_the_end_is_404_and_a_bad_page_is_400(api, records):
    records.customer()
    error_of(api.get("/api/v1/customers/", {"page": 99}), 404)
    error_of(api.get("/api/v1/customers/", {"page": "x"}), 400)
    error_of(api.get("/api/v1/customers/", {"page": "0"}), 400)


@pytest.mark.parametrize("rate", ["3/hour"])  # an hour-long window: crossing into the next one mid-test is negligible
def test_rate_limit_per_token_is_a_429_with_retry_after(rate, settings, tenant, records):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"api": rate}}
    first = token_client(tenant, make_member(tenant, role="viewer"))
    second = token_client(tenant, make_member(tenant, role="viewer"))
    for _ in range(3):
        assert first.get("/api/v1/whoami/").status_code == 200
    response = first.get("/api/v1/customers/")
    error = error_of(response, 429)
    assert error["code"] == "throttled"
    assert 1 <= int(response["Retry-After"]) <= 3600
    # Counted per token: another token of the same tenant is not affected.
    assert second.get("/api/v1/customers/").status_code == 200


def test_unexpected_errors_are_a_json_500(api, monkeypatch):
    from customers.api import viewsets

    def explode(self):
        raise RuntimeError("boom")

    monkeypatch.setattr(viewsets.CustomerViewSet, "get_queryset", explode)
    api.raise_request_exception = False
    error = error_of(api.get("/api/v1/customers/"), 500)
    assert error["code"] == "server_error"
    assert "boom" not in error["message"]


@override_settings(DEBUG=False)
def test_schema_and_docs_are_served_without_a_cdn(api):
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    document = schema.json()
    assert document["openapi"].startswith("3.")
    assert "Error" in document["components"]["schemas"]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert {"400", "401", "403", "404", "429"} <= set(operation["responses"]), (method, path)
    docs = Client().get("/api/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    # Nothing is loaded from another host (a CSRF token may contain the letters "cdn" by chance).
    assert not re.findall(r"""(?:src|href)=["'](?:https?:)?//""", html)
    assert Client().get("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js").status_code == 200


def test_odd_time_zone_offsets_and_extreme_dates_are_handled(api, records):
    # Found by schemathesis: PostgreSQL refuses offsets beyond ±15:59, Python accepts up to ±23:59.
    response = api.get("/api/v1/customers/", {"updated_after": "0479-08-21T18:07:00-20:58"})
    assert response.status_code == 200
    error_of(api.get("/api/v1/customers/", {"created_after": "0001-01-01T00:00:00+05:00"}), 400)
    customer = records.customer()
    for value in ("0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00"):
        error_of(
            api.post("/api/v1/tickets/", {"customer": customer.pk, "subject": "x", "due_at": value}, format="json"), 400
        )
    response = api.post(
        "/api/v1/tickets/",
        {"customer": customer.pk, "subject": "x", "due_at": "2030-01-01T00:00:00-20:58"},
        format="json",
    )
    assert response.status_code == 201, response.content


def test_concurrent_requests_are_all_counted(settings, tenant, records):
    from concurrent.futures import ThreadPoolExecutor

    from crm.api.throttling import TokenRateThrottle
    from crm.tenancy.actions import api_token_for

    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"api": "10/hour"}}
    request = SimpleNamespace(auth=api_token_for(tenant, make_member(tenant).username, acting_user=None), user=None)
    with ThreadPoolExecutor(8) as pool:
        allowed = list(pool.map(lambda _: TokenRateThrottle().allow_request(request, None), range(40)))
    assert allowed.count(True) == 10


def test_a_rate_window_is_forgotten_after_it_ends(settings, tenant):
    import redis

    from crm.api.throttling import TokenRateThrottle
    from crm.tenancy.actions import api_token_for

    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"api": "5/min"}}
    request = SimpleNamespace(auth=api_token_for(tenant, make_member(tenant).username, acting_user=None), user=None)
    throttle = TokenRateThrottle()
    assert throttle.allow_request(request, None)
    window = int(time.time() // 60)
    ttl = redis.Redis.from_url(settings.REDIS_URL).ttl(f"{throttle.get_cache_key(request, None)}:{window}")
    assert 0 < ttl <= 61
