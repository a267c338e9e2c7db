"""A token's identity (token, user, company, membership) is one prepared statement per connection."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from crm.tenancy.authentication import identity_query, identity_sql
from crm.tenancy.models import token_digest
from tests.api.conftest import token_client

pytestmark = pytest.mark.django_db(transaction=True)  # outside a transaction, as in production


@pytest.fixture(autouse=True)
def fresh_identity_query():
    identity_query.__init__()
    yield
    identity_query.__init__()


def prepared_statements() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements")
        return {name for (name,) in cursor.fetchall()}


def statements(queries, verb: str) -> list[str]:
    return [query["sql"] for query in queries.captured_queries if query["sql"].startswith(verb)]


def test_the_identity_query_is_prepared_once_and_reused(tenant, admin_user):
    api = token_client(tenant, admin_user)
    with CaptureQueriesContext(connection) as queries:
        for _ in range(3):
            assert api.get("/api/v1/whoami/").json()["username"] == "alice"
    assert len(statements(queries, "PREPARE")) == 1
    assert len(statements(queries, "EXECUTE")) == 3
    assert identity_query.name in prepared_statements()
    assert identity_query.works


def test_the_prepared_and_the_plain_query_give_the_same_row(tenant, admin_user):
    digest = token_digest(token_client(tenant, admin_user).token.key)
    with connection.cursor() as cursor:
        cursor.execute(identity_sql(), [digest])
        plain = cursor.fetchone()
    assert identity_query.fetchone(digest) == plain
    assert identity_query.name in prepared_statements()


def test_a_new_connection_prepares_the_statement_again(tenant, admin_user):
    api = token_client(tenant, admin_user)
    assert api.get("/api/v1/whoami/").status_code == 200
    connection.close()  # the next query opens a new session, which holds no statements
    with CaptureQueriesContext(connection) as queries:
        assert api.get("/api/v1/whoami/").json()["username"] == "alice"
    assert len(statements(queries, "PREPARE")) == 1
    assert identity_query.works
    assert identity_query.name in prepared_statements()


def test_inside_a_transaction_the_plain_query_runs(tenant, admin_user):
    token = token_client(tenant, admin_user).token
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        row = identity_query.fetchone(token.digest)
    assert row[0] == token.pk
    assert statements(queries, "PREPARE") == statements(queries, "EXECUTE") == []
    assert identity_query.works


def test_a_server_that_forgot_the_statement_gets_the_plain_query_from_then_on(tenant, admin_user):
    # What a pooler handing out another server connection looks like.
    api = token_client(tenant, admin_user)
    assert api.get("/api/v1/whoami/").status_code == 200
    with connection.cursor() as cursor:
        cursor.execute(f"DEALLOCATE {identity_query.name}")
    assert api.get("/api/v1/whoami/").json()["username"] == "alice"
    assert not identity_query.works
    with CaptureQueriesContext(connection) as queries:
        assert api.get("/api/v1/whoami/").status_code == 200
    assert statements(queries, "PREPARE") == statements(queries, "EXECUTE") == []
    assert identity_query.name not in prepared_statements()


def test_an_unknown_token_is_still_refused(tenant, admin_user):
    api = token_client(tenant, admin_user)
    api.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)
    assert api.get("/api/v1/whoami/").status_code == 401
    assert identity_query.works
