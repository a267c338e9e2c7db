"""Tokens from before hashing are hashed in place by the migration, and their keys keep working."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone
from rest_framework.test import APIClient

from crm.tenancy.models import ApiToken, token_digest
from tests.factories import make_member, make_tenant

pytestmark = pytest.mark.django_db(transaction=True)

OLD_KEY = "0123456789abcdef0123456789abcdef01234567"


def migrate(targets=None) -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(targets or executor.loader.graph.leaf_nodes())


def test_plain_keys_are_hashed_in_place_and_keep_working():
    tenant = make_tenant("hashers")
    user = make_member(tenant, "olga", role="admin")
    try:
        migrate([("tenancy", "0001_initial")])
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO tenancy_apitoken (key, tenant_id, user_id, created_at) VALUES (%s, %s, %s, %s)",
                [OLD_KEY, tenant.pk, user.pk, timezone.now()],
            )
        migrate()
    finally:
        migrate()
    token = ApiToken.objects.get(user=user)
    assert (token.digest, token.prefix, token.name) == (token_digest(OLD_KEY), OLD_KEY[:8], "API token")
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM tenancy_apitoken AS t WHERE t::text LIKE %s", [f"%{OLD_KEY}%"])
        assert cursor.fetchone() is None
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {OLD_KEY}")
    assert client.get("/api/v1/whoami/").json()["username"] == "olga"
