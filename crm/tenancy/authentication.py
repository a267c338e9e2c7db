import re
import weakref
from dataclasses import replace
from datetime import timedelta
from functools import cache

from django.contrib.auth import get_user_model
from django.db import DatabaseError, connection
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from psycopg2 import errors
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from crm.tenancy.context import get_context, set_context
from crm.tenancy.models import ApiToken, Membership, Tenant

# Recording every use would add a write to every API call.
LAST_USED_PRECISION = timedelta(minutes=1)
TOKEN_KEY = re.compile(r"[0-9a-f]{40}")  # crm.tenancy.models.new_token_key


def _columns(model, alias: str) -> list[str]:
    return [f'{alias}."{field.column}"' for field in model._meta.concrete_fields]


def _pk(model, alias: str) -> str:
    return f'{alias}."{model._meta.pk.column}"'


@cache
def _identity_query() -> str:
    """The token with its user, tenant and the user's membership there, as one SELECT.

    Written out (once, from the models' own fields) because every API call runs
    it: the ORM would build the four-table join anew each time, which costs
    more than the query itself.
    """
    user = get_user_model()
    columns = [*_columns(ApiToken, "a"), *_columns(user, "u"), *_columns(Tenant, "t"), *_columns(Membership, "m")]
    return (
        f'SELECT {", ".join(columns)} FROM "{ApiToken._meta.db_table}" a '
        f'JOIN "{user._meta.db_table}" u ON {_pk(user, "u")} = a.user_id '
        f'JOIN "{Tenant._meta.db_table}" t ON {_pk(Tenant, "t")} = a.tenant_id '
        f'LEFT JOIN "{Membership._meta.db_table}" m ON m.user_id = a.user_id AND m.tenant_id = a.tenant_id '
        "WHERE a.key = %s"
    )


class PreparedIdentityQuery:
    """Runs the identity query as a statement prepared once per database connection.

    Parsing and planning the four-table join costs the server about 0.4 ms, twice
    what running it does, and every API call needs it; psycopg2 has no prepared
    statements of its own, so this PREPAREs it by hand on each new connection.
    Inside a transaction the plain query runs instead (a failing EXECUTE would
    abort the caller's transaction). Should the server not know the statement
    (a pooler such as PgBouncer in transaction mode hands out other server
    connections), this process goes back to the plain query for good.
    """

    name = "crm_api_identity"

    def __init__(self):
        self.prepared_on = weakref.WeakSet()  # raw connections holding the statement
        self.works = True

    def fetchone(self, key: str):
        with connection.cursor() as cursor:
            if self.works and not connection.in_atomic_block:
                try:
                    return self._execute_prepared(cursor, key)
                except DatabaseError as error:
                    if not isinstance(
                        error.__cause__, errors.InvalidSqlStatementName | errors.DuplicatePreparedStatement
                    ):
                        raise
                    self.works = False
            cursor.execute(_identity_query(), [key])
            return cursor.fetchone()

    def _execute_prepared(self, cursor, key: str):
        raw = connection.connection
        if raw not in self.prepared_on:
            cursor.execute(f"PREPARE {self.name}(text) AS {_identity_query().replace('%s', '$1')}")
            self.prepared_on.add(raw)
        cursor.execute(f"EXECUTE {self.name}(%s)", [key])
        return cursor.fetchone()


identity_query = PreparedIdentityQuery()


def _token_user_tenant_membership(key: str):
    if not TOKEN_KEY.fullmatch(key):  # not one of ours (and no NUL byte reaches PostgreSQL)
        return None
    row = identity_query.fetchone(key)
    if row is None:
        return None
    instances = []
    for model in (ApiToken, get_user_model(), Tenant, Membership):
        names = [field.attname for field in model._meta.concrete_fields]
        values, row = row[: len(names)], row[len(names) :]
        instances.append(model.from_db(connection.alias, names, values) if values[0] is not None else None)
    return instances


class TenantTokenAuthentication(TokenAuthentication):
    """`Authorization: Token <key>`: the token's user acting in the token's tenant."""

    model = ApiToken

    def authenticate_credentials(self, key):
        found = _token_user_tenant_membership(key)
        if found is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        token, user, tenant, membership = found
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        if membership is None:
            raise exceptions.AuthenticationFailed(_("This user is no longer a member of the token's tenant."))
        token.user = membership.user = user
        token.tenant = membership.tenant = tenant
        # The middleware resets the context after the response.
        set_context(replace(get_context(), tenant=tenant, user=user, membership=membership))
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_PRECISION:
            ApiToken.objects.filter(key=key).update(last_used_at=now)
        return user, token
