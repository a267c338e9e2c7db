"""Logins, logouts and failed logins become audit events."""

from axes.signals import user_locked_out
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from audit.events import record
from audit.models import AuditEvent
from crm.tenancy.models import Membership


def _home_tenant(request, user):
    from crm.tenancy.middleware import SESSION_TENANT_KEY

    tenant_id = request.session.get(SESSION_TENANT_KEY) if request is not None else None
    memberships = Membership.objects.filter(user=user).order_by("tenant__name")
    chosen = memberships.filter(tenant_id=tenant_id).first() or memberships.first()
    return chosen.tenant if chosen else None


@receiver(user_logged_in)
def logged_in(sender, request, user, **kwargs):
    record(AuditEvent.Action.LOGIN, tenant=_home_tenant(request, user), actor=user)


@receiver(user_logged_out)
def logged_out(sender, request, user, **kwargs):
    if user is not None:
        record(AuditEvent.Action.LOGOUT, tenant=_home_tenant(request, user), actor=user)


@receiver(user_login_failed)
def login_failed(sender, credentials, request=None, **kwargs):
    user = get_user_model().objects.filter(username=credentials.get("username", "")).first()
    tenant = _home_tenant(request, user) if user else None
    record(AuditEvent.Action.LOGIN_FAILED, tenant=tenant, actor=user, detail={"known_user": user is not None})


@receiver(user_locked_out)
def locked_out(sender, request, username, ip_address, **kwargs):
    """One event when a lockout starts (axes sends the signal again for each refused attempt)."""
    if getattr(request, "axes_failures_since_start", None) is None:
        return
    user = get_user_model().objects.filter(username=username or "").first()
    tenant = _home_tenant(request, user) if user else None
    detail = {"known_user": user is not None, "failures": request.axes_failures_since_start}
    record(AuditEvent.Action.LOCKOUT, tenant=tenant, actor=user, detail=detail)
