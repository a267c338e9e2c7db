"""API token authentication: `Authorization: Token <key>` is one user acting in one company.

The key is looked up by its SHA-256 digest (crm.tenancy.models.token_digest). The token, its user, its company and the user's membership there come from one
SELECT (written out once from the models' own fields, so it cannot drift from
them). Every API call runs it, and PostgreSQL spends longer planning that
four-table join than running it, so the query is a prepared statement: see
PreparedIdentityQuery.
"""

import re
import weakref
from dataclasses import replace
from datetime import timedelta
from functools import cache

from django.contrib.auth import get_user_model
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction
from django.db.backends.signals import connection_created
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from psycopg2 import errors
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.permissions import SAFE_METHODS

from crm.tenancy.context import get_context, set_context
from crm.tenancy.models import ApiToken, Membership, Tenant, token_digest

# Recording every use would add a write to every API call.
LAST_USED_PRECISION = timedelta(minutes=1)
TOKEN_KEY = re.compile(r"[0-9a-f]{40}")  # crm.tenancy.models.new_token_key
IDENTITY_MODELS = (ApiToken, get_user_model(), Tenant, Membership)


def _columns(model, alias: str) -> list[str]:
    return [f'{alias}."{field.column}"' for field in model._meta.concrete_fields]


def _pk(model, alias: str) -> str:
    return f'{alias}."{model._meta.pk.column}"'


@cache
def identity_sql() -> str:
    """The live token with its user, tenant and the user's membership there, as one SELECT (one %s: the digest)."""
    token, user, tenant, membership = IDENTITY_MODELS
    columns = [*_columns(token, "a"), *_columns(user, "u"), *_columns(tenant, "t"), *_columns(membership, "m")]
    return (
        f'SELECT {", ".join(columns)} FROM "{token._meta.db_table}" a '
        f'JOIN "{user._meta.db_table}" u ON {_pk(user, "u")} = a.user_id '
        f'JOIN "{tenant._meta.db_table}" t ON {_pk(tenant, "t")} = a.tenant_id '
        f'LEFT JOIN "{membership._meta.db_table}" m ON m.user_id = a.user_id AND m.tenant_id = a.tenant_id '
        "WHERE a.digest = %s AND a.revoked_at IS NULL"
    )


class PreparedIdentityQuery:
    """The identity query as a PostgreSQL prepared statement, PREPAREd once per database connection.

    Kept because it pays: planning the join costs the server more than running
    it, and EXECUTE skips parsing and planning. Measured in back-to-back pairs on
    one connection, it saves 0.2-0.35 ms per query and 0.35-0.45 ms per API list
    request; it must save 0.3 ms a request to stay (`python -m bench --only
    identity` measures it again, with that verdict). psycopg2 prepares
    nothing by itself, so this sends SQL PREPARE / EXECUTE through Django's
    cursor, and uses only documented hooks around it:

    - `connection_created` (Django's signal for per-connection setup): a new
      connection holds no statements, so it is forgotten and prepared afresh;
    - inside a transaction (`transaction.get_autocommit()` is false) the plain
      query runs: a failing EXECUTE would abort the caller's transaction;
    - if the server does not know the statement (a pooler such as PgBouncer in
      transaction mode handing out another server connection), the driver's
      error (`DatabaseError.__cause__`) says so and this process runs the plain
      query from then on.
    """

    name = "crm_api_identity"

    def __init__(self):
        self.prepared_on = weakref.WeakSet()  # Django connections whose current session holds the statement
        self.works = True

    def fetchone(self, digest: str):
        database = connections[DEFAULT_DB_ALIAS]
        with database.cursor() as cursor:
            if self.works and transaction.get_autocommit(DEFAULT_DB_ALIAS):
                try:
                    return self._execute(database, cursor, digest)
                except DatabaseError as error:
                    if not isinstance(
                        error.__cause__, errors.InvalidSqlStatementName | errors.DuplicatePreparedStatement
                    ):
                        raise
                    self.works = False
            cursor.execute(identity_sql(), [digest])
            return cursor.fetchone()

    def _execute(self, database, cursor, digest: str):
        if database not in self.prepared_on:
            cursor.execute(f"PREPARE {self.name}(text) AS {identity_sql().replace('%s', '$1')}")
            self.prepared_on.add(database)
        cursor.execute(f"EXECUTE {self.name}(%s)", [digest])
        return cursor.fetchone()

    def forget(self, database_connection) -> None:
        self.prepared_on.discard(database_connection)


identity_query = PreparedIdentityQuery()


@receiver(connection_created, dispatch_uid="crm.tenancy.authentication.new_connection")
def _new_connection(sender, connection, **kwargs):
    identity_query.forget(connection)


def _token_user_tenant_membership(key: str):
    if not TOKEN_KEY.fullmatch(key):  # not one of ours (and no NUL byte reaches PostgreSQL)
        return None
    row = identity_query.fetchone(token_digest(key))
    if row is None:
        return None
    instances = []
    for model in IDENTITY_MODELS:
        names = [field.attname for field in model._meta.concrete_fields]
        values, row = row[: len(names)], row[len(names) :]
        instances.append(model.from_db(DEFAULT_DB_ALIAS, names, values) if values[0] is not None else None)
    return instances


class TenantTokenAuthentication(TokenAuthentication):
    """`Authorization: Token <key>`: the token's user acting in the token's tenant.

    A read-only token may make only safe requests (GET, HEAD, OPTIONS): anything else is a 403.
    """

    model = ApiToken

    def authenticate(self, request):
        found = super().authenticate(request)
        if found is not None and found[1].read_only and request.method not in SAFE_METHODS:
            raise exceptions.PermissionDenied(_("This API token is read-only."))
        return found

    def authenticate_credentials(self, key):
        found = _token_user_tenant_membership(key)
        if found is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        token, user, tenant, membership = found
        if token.expired:
            raise exceptions.AuthenticationFailed(_("This API token has expired."))
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        if membership is None or not membership.is_active:
            raise exceptions.AuthenticationFailed(_("This user is no longer a member of the token's tenant."))
        token.user = membership.user = user
        token.tenant = membership.tenant = tenant
        # The middleware resets the context after the response.
        context = replace(get_context(), tenant=tenant, user=user, membership=membership)
        set_context(context)
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_PRECISION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now, last_used_ip=context.ip)
        return user, token
