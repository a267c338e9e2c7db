"""API tokens: many per person and company, stored as digests, and every way one stops working."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.models import AuditEvent
from crm.tenancy.actions import (
    api_token_for,
    create_api_token,
    remove_member,
    revoke_api_token,
    rotate_api_token,
)
from crm.tenancy.models import ApiToken, Membership
from crm.tenancy.signals import password_changed
from tests.api.conftest import key_client
from tests.factories import make_member

pytestmark = pytest.mark.django_db

User = get_user_model()


def status_with(key, method="get", path="/api/v1/whoami/") -> int:
    return getattr(key_client(key), method)(path, {}, format="json").status_code


def new_token(tenant, user, **values):
    return create_api_token(tenant, user, acting_user=None, **{"name": "sync", **values})


def test_a_person_has_many_named_tokens_in_one_company_and_each_works(tenant, admin_user):
    first, second = new_token(tenant, admin_user, name="invoicing"), new_token(tenant, admin_user, name="mail")
    assert status_with(first.key) == status_with(second.key) == 200
    assert sorted(ApiToken.objects.filter(user=admin_user).values_list("name", flat=True)) == ["invoicing", "mail"]


def test_no_table_holds_a_key_in_clear(tenant, admin_user):
    keys = [new_token(tenant, admin_user).key, api_token_for(tenant, admin_user.username, acting_user=None).key]
    keys.append(rotate_api_token(new_token(tenant, admin_user), acting_user=None).key)
    for key in keys:  # used once, so last-used is written too
        assert status_with(key) == 200
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            for key in keys:
                cursor.execute(f'SELECT 1 FROM "{table}" AS row WHERE row::text LIKE %s LIMIT 1', [f"%{key}%"])
                assert cursor.fetchone() is None, f"a key in clear in {table}"
    stored = ApiToken.objects.get(name="manage.py api_token")
    assert stored.prefix == keys[1][:8] and len(stored.digest) == 64


def test_a_read_only_token_may_only_read(tenant, admin_user):
    key = new_token(tenant, admin_user, scope=ApiToken.Scope.READ_ONLY).key
    assert status_with(key, path="/api/v1/customers/") == 200
    for method in ("post", "delete"):
        response = getattr(key_client(key), method)("/api/v1/customers/", {}, format="json")
        assert response.status_code == 403
        assert "read-only" in response.json()["error"]["message"]


def test_an_expired_token_is_refused(tenant, admin_user):
    token = new_token(tenant, admin_user, expires_at=timezone.now() + timedelta(days=1))
    assert status_with(token.key) == 200
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = key_client(token.key).get("/api/v1/whoami/")
    assert response.status_code == 401 and "expired" in response.json()["error"]["message"]


def test_an_expiry_in_the_past_or_a_blank_name_is_refused(tenant, admin_user):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="future"):
        new_token(tenant, admin_user, expires_at=timezone.now() - timedelta(minutes=1))
    with pytest.raises(ValidationError, match="name"):
        new_token(tenant, admin_user, name="  ")
    assert not ApiToken.objects.exists()


def test_a_revoked_token_stops_at_once_and_the_revoke_is_audited(tenant, admin_user):
    token = new_token(tenant, admin_user)
    revoke_api_token(token, acting_user=admin_user)
    assert status_with(token.key) == 401
    actions = list(AuditEvent.objects.filter(tenant=tenant).values_list("action", "object_id"))
    assert (AuditEvent.Action.TOKEN_CREATED, str(token.pk)) in actions
    assert (AuditEvent.Action.TOKEN_REVOKED, str(token.pk)) in actions


def test_rotating_gives_a_new_key_with_the_same_name_scope_and_expiry(tenant, admin_user):
    expiry = timezone.now() + timedelta(days=30)
    old = new_token(tenant, admin_user, name="crm-sync", scope=ApiToken.Scope.READ_ONLY, expires_at=expiry)
    new = rotate_api_token(old, acting_user=admin_user)
    assert (new.name, new.scope, new.expires_at) == ("crm-sync", ApiToken.Scope.READ_ONLY, expiry)
    assert status_with(old.key) == 401 and status_with(new.key) == 200


def test_someone_else_may_not_rotate_a_token(tenant, admin_user):
    from django.core.exceptions import PermissionDenied

    token = new_token(tenant, make_member(tenant, "rita", role="rep"))
    with pytest.raises(PermissionDenied):
        rotate_api_token(token, acting_user=admin_user)  # an admin would learn the rep's new key
    assert status_with(token.key) == 200


def test_an_ended_membership_ends_the_tokens_even_when_the_person_comes_back(tenant, admin_user):
    rep = make_member(tenant, "rita", role="rep")
    key = new_token(tenant, rep).key
    remove_member(Membership.objects.get(tenant=tenant, user=rep), acting_user=None)
    assert status_with(key) == 401
    make_member(tenant, "rita", role="rep")
    assert status_with(key) == 401


def test_a_deactivated_user_s_tokens_stop_working(tenant, admin_user):
    key = new_token(tenant, make_member(tenant, "rita", role="rep")).key
    User.objects.filter(username="rita").update(is_active=False)
    assert status_with(key) == 401


def test_a_password_change_ends_the_person_s_tokens_unless_they_keep_them(tenant, other_tenant, admin_user):
    mine = [new_token(tenant, admin_user).key]
    make_member(other_tenant, admin_user.username, role="viewer")
    mine.append(new_token(other_tenant, admin_user).key)
    colleague = new_token(tenant, make_member(tenant, "rita", role="rep")).key

    password_changed.send(sender=User, user=admin_user, keep_tokens=True)
    assert [status_with(key) for key in mine] == [200, 200]
    password_changed.send(sender=User, user=admin_user, keep_tokens=False)
    assert [status_with(key) for key in mine] == [401, 401]
    assert status_with(colleague) == 200
    revoked = AuditEvent.objects.filter(action=AuditEvent.Action.TOKEN_REVOKED, detail__reason="password_changed")
    assert sorted(revoked.values_list("tenant_id", flat=True)) == sorted([tenant.pk, other_tenant.pk])


def test_last_use_is_recorded_with_the_address_at_most_once_a_minute(tenant, admin_user):
    token = new_token(tenant, admin_user)
    client = key_client(token.key)
    with CaptureQueriesContext(connection) as queries:
        for _ in range(3):
            assert client.get("/api/v1/whoami/", REMOTE_ADDR="203.0.113.9").status_code == 200
    updates = [q["sql"] for q in queries.captured_queries if q["sql"].startswith('UPDATE "tenancy_apitoken"')]
    assert len(updates) == 1
    token.refresh_from_db()
    assert token.last_used_ip == "203.0.113.9" and token.last_used_at is not None
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now() - timedelta(minutes=2))
    assert client.get("/api/v1/whoami/", REMOTE_ADDR="198.51.100.1").status_code == 200
    token.refresh_from_db()
    assert token.last_used_ip == "198.51.100.1" and timezone.now() - token.last_used_at < timedelta(seconds=30)


def test_the_token_lookup_is_one_query(tenant, admin_user):
    client = key_client(new_token(tenant, admin_user).key)
    client.get("/api/v1/whoami/")  # last use recorded; prepared
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/v1/whoami/").status_code == 200
    token_queries = [
        q["sql"] for q in queries.captured_queries if "tenancy_apitoken" in q["sql"] or "EXECUTE" in q["sql"]
    ]
    assert len(token_queries) == 1, token_queries


def test_a_forwarded_address_that_is_no_address_records_the_connecting_one(tenant, admin_user, settings):
    settings.TRUSTED_PROXY_COUNT = 2  # the garbled entry is where the trusted proxies say the client is
    token = new_token(tenant, admin_user)
    response = key_client(token.key).get("/api/v1/whoami/", HTTP_X_FORWARDED_FOR="not-an-address, 10.0.0.1")
    assert response.status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None and token.last_used_ip == "127.0.0.1"
