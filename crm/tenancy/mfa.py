"""Two-factor sign-in (django-otp): TOTP apps, with one-time recovery codes.

After the password, a person with a confirmed authenticator, or one whose company
requires it of their role (both decided at sign-in), is signed in but not verified: TwoFactorGate sends
every page to the code page (or, without an authenticator yet, to enrolment)
until django_otp.login() marks the session verified.
"""

import segno
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django_otp import user_has_device
from django_otp.plugins.otp_totp.models import TOTPDevice

from crm.tenancy.models import Membership
from crm.tenancy.roles import TENANT_ADMIN_ROLES
from crm.web.browser_only import signed_with_token

RECOVERY_CODES = 10


def required_by_company(memberships) -> bool:
    """Whether any of the person's companies requires two-factor sign-in of their role there."""
    return any(
        membership.tenant.mfa_required == "everyone"
        or (membership.tenant.mfa_required == "admins" and membership.role in TENANT_ADMIN_ROLES)
        for membership in memberships
    )


def pending_totp(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()


def qr_svg(device: TOTPDevice) -> str:
    """The enrolment QR code as inline SVG, drawn here (the key never leaves the server)."""
    return segno.make(device.config_url, error="m").svg_inline(scale=4, dark="#000", light="#fff")


def manual_key(device: TOTPDevice) -> str:
    """The key as authenticator apps take it typed: base32, in groups of four."""
    key = device.config_url.split("secret=")[1].split("&")[0]
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


SESSION_PENDING_KEY = "mfa_pending"


@receiver(user_logged_in)
def note_second_factor_due(sender, request, user, **kwargs):
    """Decided once per sign-in, so other requests cost no query: a company's new rule applies from the next."""
    memberships = Membership.objects.select_related("tenant").filter(user=user, is_active=True)
    if user_has_device(user) or required_by_company(memberships):
        request.session[SESSION_PENDING_KEY] = True


class TwoFactorGate:
    """Signed in with the password only: nothing but the code, enrolment, sign-out and language pages."""

    open_paths = ("/accounts/2fa/", "/accounts/logout/", "/accounts/language/", "/static/", "/healthz")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if (
            signed_with_token(request)  # the token is the whole sign-in; django-otp stood aside
            or not request.session.get(SESSION_PENDING_KEY)
            or user.is_verified()
            or request.path.startswith(self.open_paths)
        ):
            return self.get_response(request)
        has_device = user_has_device(user)
        if request.path.startswith("/api/"):
            message = _("Give your two-factor code on the sign-in page first.")
            return JsonResponse(
                {"error": {"code": "two_factor_required", "message": message, "fields": {}}}, status=403
            )
        target = "tenancy:mfa_verify" if has_device else "tenancy:mfa_setup"
        return redirect(f"{reverse(target)}?next={request.get_full_path()}")
