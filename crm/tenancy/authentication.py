import re
from dataclasses import replace
from datetime import timedelta
from functools import cache

from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
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


def _token_user_tenant_membership(key: str):
    if not TOKEN_KEY.fullmatch(key):  # not one of ours (and no NUL byte reaches PostgreSQL)
        return None
    with connection.cursor() as cursor:
        cursor.execute(_identity_query(), [key])
        row = cursor.fetchone()
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
