from dataclasses import replace
from datetime import timedelta

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
        token = ApiToken.objects.select_related("user", "tenant").filter(key=key).first()
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        membership = Membership.objects.filter(tenant=token.tenant, user=token.user).first()
        if membership is None:
            raise exceptions.AuthenticationFailed(_("This user is no longer a member of the token's tenant."))
        membership.tenant = token.tenant
        # The middleware resets the context after the response.
        set_context(replace(get_context(), tenant=token.tenant, user=token.user, membership=membership))
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_PRECISION:
            ApiToken.objects.filter(key=key).update(last_used_at=now)
        return token.user, token
