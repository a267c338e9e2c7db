import ipaddress
import re
import uuid
import zoneinfo

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect, render
from django.utils import timezone, translation

from crm.tenancy.context import Context, reset_context, set_context
from crm.tenancy.models import Membership

SESSION_TENANT_KEY = "tenant_id"
SESSION_TIME_ZONE_KEY = "time_zone"
SESSION_LANGUAGE_KEY = "language"
# Set at sign-in for someone an admin gave a temporary password (crm.tenancy.signals).
SESSION_PASSWORD_CHANGE_KEY = "password_change_required"
REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def _trusted(address: str, networks) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_ip(request) -> str | None:
    """The client's address: the connecting one, or the one the trusted proxies put in front of it
    in X-Forwarded-For (settings TRUSTED_PROXY_COUNT / TRUSTED_PROXIES). Whatever a client wrote
    itself into the header stays to the left of what the proxies appended, and is never read."""
    remote = request.META.get("REMOTE_ADDR")
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    hops = [*forwarded, remote]
    if settings.TRUSTED_PROXIES:
        networks = [ipaddress.ip_network(entry, strict=False) for entry in settings.TRUSTED_PROXIES]
        while len(hops) > 1 and _trusted(hops[-1], networks):
            hops.pop()
        return _address_or(hops[-1], remote)
    count = settings.TRUSTED_PROXY_COUNT
    return _address_or(hops[-1 - count], remote) if 0 < count < len(hops) else remote


def _address_or(candidate: str, remote: str | None) -> str | None:
    """A proxy's garbled header entry is no address to record."""
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote


def request_id_of(request) -> str:
    """The client's X-Request-ID when well-formed, else a new one; the same all through the request."""
    if not hasattr(request, "request_id"):
        supplied = request.headers.get("X-Request-ID", "")
        request.request_id = supplied if REQUEST_ID_PATTERN.match(supplied) else uuid.uuid4().hex
    return request.request_id


def request_context(request, membership=None) -> Context:
    return Context(
        tenant=membership.tenant if membership else None,
        user=request.user if membership else None,
        membership=membership,
        request_id=request_id_of(request),
        ip=client_ip(request),
        user_agent=request.headers.get("User-Agent", "")[:300],
    )


def user_memberships(user) -> list:
    """A user's active memberships with their tenants, by tenant name (the tenant switcher's list)."""
    memberships = Membership.objects.select_related("tenant").filter(user=user, is_active=True)
    return list(memberships.order_by("tenant__name", "pk"))


def membership_ended(request, memberships) -> bool:
    """The session works in a company the person was since removed from or deactivated in."""
    tenant_id = request.session.get(SESSION_TENANT_KEY)
    return tenant_id is not None and all(membership.tenant_id != tenant_id for membership in memberships)


def current_membership(request, memberships):
    """The membership in the session's tenant (switching falls back to the first of `memberships`)."""
    tenant_id = request.session.get(SESSION_TENANT_KEY)
    chosen = next((membership for membership in memberships if membership.tenant_id == tenant_id), None)
    chosen = chosen or (memberships[0] if memberships else None)
    if chosen and chosen.tenant_id != tenant_id:
        request.session[SESSION_TENANT_KEY] = chosen.tenant_id
    return chosen


class TenantMiddleware:
    """Activates the tenant context for each request and clears it afterwards.

    Browser sessions take the tenant kept in the session. API token requests
    are completed by TenantTokenAuthentication, which knows the token's tenant.
    """

    # Reachable without a membership: sign-in, static files, the API (token auth decides),
    # and the installation-wide pages of staff (admin site, whole-database backups).
    open_paths = (
        "/accounts/",
        "/static/",
        "/i18n/",
        "/api/",
        "/healthz",
        "/readyz",
        "/metrics",
        "/admin/",
        "/backups/",
    )

    def __init__(self, get_response):
        self.get_response = get_response

    # Reachable while a temporary password waits to be changed (two-factor sign-in comes first
    # where the company requires it: crm.tenancy.mfa.TwoFactorGate, after this middleware).
    password_change_paths = (
        "/accounts/password/",
        "/accounts/2fa/",
        "/accounts/logout/",
        "/accounts/language/",
        "/static/",
        "/i18n/",
    )

    def __call__(self, request):
        # One query for all of the user's memberships: the page's tenant and the switcher's list.
        request.memberships = user_memberships(request.user) if request.user.is_authenticated else []
        if request.user.is_authenticated and membership_ended(request, request.memberships):
            # Removing or deactivating a member ends their sessions in that company, at this request.
            logout(request)
            request.memberships = []
            if not request.path.startswith("/api/"):
                return redirect_to_login(request.get_full_path())
        if request.session.get(SESSION_PASSWORD_CHANGE_KEY) and not request.path.startswith(self.password_change_paths):
            return redirect("password_change")
        membership = current_membership(request, request.memberships) if request.memberships else None
        request.membership = membership
        request.tenant = membership.tenant if membership else None
        token = set_context(request_context(request, membership))
        try:
            if request.user.is_authenticated and membership is None and not request.path.startswith(self.open_paths):
                return render(request, "tenancy/no_membership.html", status=403)
            return self.get_response(request)
        finally:
            reset_context(token)


class UserPreferencesMiddleware:
    """Applies the signed-in user's language and time zone, kept in the session."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        language = request.session.get(SESSION_LANGUAGE_KEY) if hasattr(request, "session") else None
        if language and language != translation.get_language() and not request.path.startswith("/i18n/"):
            translation.activate(language)
            request.LANGUAGE_CODE = language
        time_zone = request.session.get(SESSION_TIME_ZONE_KEY) if hasattr(request, "session") else None
        # Always an active zone (the default one when the user chose none or an unknown one):
        # the same zone as deactivate() would give, but every date shown on the page reads it,
        # and reading an unset zone costs twice as much (a missing attribute, then the default).
        try:
            timezone.activate(zoneinfo.ZoneInfo(time_zone) if time_zone else timezone.get_default_timezone())
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            timezone.activate(timezone.get_default_timezone())
        return self.get_response(request)
