from dataclasses import replace
from datetime import timedelta

from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from crm.tenancy.context import get_context, set_context
from crm.tenancy.models import ApiToken, Membership

# Recording every use would add a write to every API call.
LAST_USED_PRECISION = timedelta(minutes=1)


class TenantTokenAuthentication(TokenAuthentication):
    """`Authorization: Token <key>`: the token's user acting in the token's tenant."""

    model = ApiToken

    def authenticate_credentials(self, key):
        # One query: the token's user's membership in the token's tenant, with both.
        membership = (
            Membership.objects.select_related("user", "tenant")
            .filter(user__api_tokens__key=key, tenant=F("user__api_tokens__tenant"))
            .annotate(
                token_created_at=F("user__api_tokens__created_at"),
                token_last_used_at=F("user__api_tokens__last_used_at"),
            )
            .first()
        )
        if membership is None:
            if ApiToken.objects.filter(key=key).exists():
                raise exceptions.AuthenticationFailed(_("This user is no longer a member of the token's tenant."))
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        user, tenant = membership.user, membership.tenant
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        token = ApiToken.from_db(
            "default",
            ["key", "tenant_id", "user_id", "created_at", "last_used_at"],
            [key, tenant.pk, user.pk, membership.token_created_at, membership.token_last_used_at],
        )
        token.tenant, token.user = tenant, user
        # The middleware resets the context after the response.
        set_context(replace(get_context(), tenant=tenant, user=user, membership=membership))
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_PRECISION:
            ApiToken.objects.filter(key=key).update(last_used_at=now)
        return user, token
