"""Writes to a person's own sign-in: lockouts, passwords, two-factor. One action each, audited.

(The company, membership, token and preference actions are in crm.tenancy.actions.)
"""

from axes.utils import reset as axes_reset
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.events import record as audit
from audit.events import record_system
from audit.models import AuditEvent
from crm.tenancy.acting import action, is_staff
from crm.tenancy.mfa import RECOVERY_CODES
from crm.tenancy.models import Membership
from crm.tenancy.roles import TENANT_ADMIN_ROLES
from crm.tenancy.signals import password_changed

User = get_user_model()


def _audit_user_event(user, action_name: str, detail: dict | None = None) -> None:
    """An event about a person's sign-in, in each of their companies' logs (the system's if none)."""
    tenant_ids = list(Membership.objects.filter(user=user).order_by("tenant_id").values_list("tenant_id", flat=True))
    for tenant_id in tenant_ids:
        audit(action_name, tenant=tenant_id, target=user, actor=user, detail=detail)
    if not tenant_ids:
        record_system(action_name, target=user, detail=detail)


def _may_manage_sign_in(acting_user, user) -> bool:
    """The system, staff, the person, or an admin of one of the person's companies."""
    if acting_user is None or is_staff(acting_user) or acting_user.pk == user.pk:
        return True
    tenants = Membership.objects.filter(user=user).values("tenant_id")
    admin_of = Membership.objects.active().filter(user=acting_user, role__in=TENANT_ADMIN_ROLES)
    return admin_of.filter(tenant_id__in=tenants).exists()


@action
def clear_lockout(user, *, acting_user) -> int:
    """End the lockout of `user`'s account (failed sign-ins forgotten); the number of records cleared."""
    if not _may_manage_sign_in(acting_user, user):
        raise PermissionDenied(_("Only an administrator of their company may clear a member's sign-in lock."))
    with transaction.atomic():
        cleared = axes_reset(username=user.get_username())
        if cleared:
            _audit_user_event(user, AuditEvent.Action.LOCKOUT_CLEARED, {"by": getattr(acting_user, "pk", None)})
    return cleared


def _set_password(user, new_password: str, *, keep_tokens: bool, action_name: str) -> None:
    validate_password(new_password, user)
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        _audit_user_event(user, action_name, {"kept_api_tokens": keep_tokens})
        password_changed.send(sender=User, user=user, keep_tokens=keep_tokens)


@action
def change_password(user, old_password: str, new_password: str, *, acting_user, keep_tokens: bool = False) -> None:
    """The person changes their own password; their other sessions end (Django's session hash)."""
    if acting_user is None or acting_user.pk != user.pk:
        raise PermissionDenied(_("You may change only your own password."))
    if not user.check_password(old_password):
        raise ValidationError(_("Your old password was entered incorrectly."), code="password_incorrect")
    _set_password(user, new_password, keep_tokens=keep_tokens, action_name=AuditEvent.Action.PASSWORD_CHANGED)


@action
def reset_password(user, new_password: str, *, acting_user) -> None:
    """A new password through a one-time emailed link (the link is checked by the view); clears the lockout."""
    if acting_user is None or acting_user.pk != user.pk:
        raise PermissionDenied(_("A password is reset only through its owner's link."))
    with transaction.atomic():
        _set_password(user, new_password, keep_tokens=False, action_name=AuditEvent.Action.PASSWORD_RESET)
        clear_lockout(user, acting_user=acting_user)


def _require_self(acting_user, user) -> None:
    if acting_user is None or acting_user.pk != user.pk:
        raise PermissionDenied(_("Only the person themself may set up their two-factor sign-in."))


@action
def start_totp_enrolment(user, *, acting_user) -> TOTPDevice:
    """A new, unconfirmed authenticator key for `user` (replacing an unconfirmed one)."""
    _require_self(acting_user, user)
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        return TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)


@action
def confirm_totp(device: TOTPDevice, code: str, *, acting_user) -> list[str]:
    """Turn two-factor sign-in on with the first code from the app; the new recovery codes."""
    _require_self(acting_user, device.user)
    with transaction.atomic():
        if not device.verify_token(code.strip()):
            raise ValidationError(_("That code is not right: check the app's clock and try the next code."))
        TOTPDevice.objects.filter(user=device.user).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = _new_recovery_codes(device.user)
        _audit_user_event(device.user, AuditEvent.Action.MFA_ENABLED, {"recovery_codes": len(codes)})
    return codes


def _new_recovery_codes(user) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    recovery = StaticDevice.objects.create(user=user, name="recovery codes")
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=recovery, token=code) for code in codes)
    return codes


@action
def verify_second_factor(user, code: str, *, acting_user):
    """The device that accepts `code` (an app's 6 digits, or a recovery code, used up), else None.

    Each device counts its failures and makes the next try wait longer (django-otp's throttling).
    """
    _require_self(acting_user, user)
    code = code.strip().replace(" ", "").lower()
    model = TOTPDevice if code.isdigit() else StaticDevice
    device = model.objects.filter(user=user, confirmed=True).first()
    if device is None:
        return None
    with transaction.atomic():
        return device if device.verify_token(code) else None


@action
def disable_mfa(user, *, acting_user) -> None:
    """Two-factor sign-in off: the person, or an admin of their company (a lost phone)."""
    if not _may_manage_sign_in(acting_user, user):
        raise PermissionDenied(_("Only an administrator of their company may turn off a member's two-factor sign-in."))
    with transaction.atomic():
        deleted, _detail = TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        if deleted:
            _audit_user_event(user, AuditEvent.Action.MFA_DISABLED, {"by": getattr(acting_user, "pk", None)})
