"""Writes to a company's people (Company settings -> People): invite, create with a temporary
password, deactivate, reactivate. One action each, audited (MEMBERSHIP, INVITED).

Role changes and removal are crm.tenancy.actions.set_member_role and remove_member.
Every change that could leave a company without an active admin runs under the
company's people lock (actions.lock_people) and is refused by check_keeps_an_admin.
"""

import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from audit.events import record as audit
from audit.models import AuditEvent
from crm.tenancy.acting import action
from crm.tenancy.actions import (
    _audit_membership,
    _require_administrator,
    check_keeps_an_admin,
    end_member_tokens,
    lock_people,
    locked_membership,
    validate_role,
)
from crm.tenancy.models import Invitation, Membership, PasswordChangeRequired, Tenant, token_digest
from crm.tenancy.roles import Role

User = get_user_model()

INVITATION_DAYS = 7
# 12 characters of an alphabet without look-alikes (no 0/O, 1/l/I): read aloud or copied from a
# screen once, by someone who then must choose their own.
TEMPORARY_PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
TEMPORARY_PASSWORD_LENGTH = 12


def _invitation_detail(invitation: Invitation, status: str) -> dict:
    return {"invitation_id": invitation.pk, "role": invitation.role, "status": status}


def invitation_link(base_url: str, key: str) -> str:
    return base_url.rstrip("/") + reverse("tenancy:invitation", args=[key])


def _send_invitation(invitation: Invitation, link: str, language: str) -> None:
    with translation.override(language):
        context = {"tenant": invitation.tenant, "link": link, "days": INVITATION_DAYS}
        subject = _("You are invited to %(tenant)s") % {"tenant": invitation.tenant.name}
        body = render_to_string("tenancy/invitation_email.txt", context)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [invitation.email])


@action
def invite_member(tenant: Tenant, email: str, *, role: str, base_url: str, acting_user) -> Invitation:
    """A one-time link to join `tenant` as `role`, emailed to `email` once the transaction commits.

    The returned invitation carries `key` and `link` (never stored: only the key's digest is).
    """
    _require_administrator(acting_user, tenant)
    validate_role(role)
    email = (email or "").strip()
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({"email": _("Enter the email address to send the invitation to.")}) from None
    if Membership.objects.filter(tenant=tenant, user__email__iexact=email).exists():
        raise ValidationError({"email": _("Someone with this email address is already a member.")})
    invitation = Invitation(
        tenant=tenant,
        email=email,
        role=role,
        invited_by=acting_user,
        expires_at=timezone.now() + timedelta(days=INVITATION_DAYS),
    )
    key = invitation.set_new_key()
    invitation.link = invitation_link(base_url, key)
    language = translation.get_language() or settings.LANGUAGE_CODE
    with transaction.atomic():
        invitation.save()
        audit(
            AuditEvent.Action.INVITED, tenant=tenant, target=invitation, detail=_invitation_detail(invitation, "sent")
        )
        # robust: a mail server that is down is logged, and does not undo or fail the invitation.
        transaction.on_commit(lambda: _send_invitation(invitation, invitation.link, language), robust=True)
    invitation.key = key
    return invitation


@action
def revoke_invitation(invitation: Invitation, *, acting_user) -> None:
    """The link stops working."""
    _require_administrator(acting_user, invitation.tenant)
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if invitation.accepted_at or invitation.revoked_at:
            return
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        audit(
            AuditEvent.Action.INVITED,
            tenant=invitation.tenant_id,
            target=invitation,
            detail=_invitation_detail(invitation, "revoked"),
        )


def usable_invitation(key: str) -> Invitation | None:
    """The invitation of a link's key while it can still be used, else None."""
    invitation = Invitation.objects.select_related("tenant").filter(digest=token_digest(key or "")).first()
    return invitation if invitation is not None and invitation.usable else None


@action
def accept_invitation(key: str, *, acting_user, username: str = "", password: str = "") -> Membership:
    """Join the invitation's company: as the signed-in `acting_user`, or (acting_user None: the
    link is the only credential) as a new user `username` with `password` and the invited email."""
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().filter(digest=token_digest(key or "")).first()
        if invitation is None or not invitation.usable:
            raise ValidationError(_("This invitation link has expired or was already used: ask for a new one."))
        user = acting_user or _new_user(username, password, invitation.email)
        lock_people(invitation.tenant_id)
        membership = Membership.objects.filter(tenant_id=invitation.tenant_id, user=user).first()
        if membership is not None:
            raise ValidationError(_("You are already a member of %(tenant)s.") % {"tenant": invitation.tenant.name})
        membership = Membership.objects.create(tenant_id=invitation.tenant_id, user=user, role=invitation.role)
        invitation.accepted_at = timezone.now()
        invitation.accepted_by = user
        invitation.save(update_fields=["accepted_at", "accepted_by"])
        detail = {"invitation_id": invitation.pk, "new_user": acting_user is None}
        audit(
            AuditEvent.Action.MEMBERSHIP,
            tenant=invitation.tenant_id,
            target=membership,
            actor=user,
            detail={"user_id": user.pk, "role": membership.role, "previous_role": None, **detail},
        )
    return membership


def _new_user(username: str, password: str, email: str):
    username = (username or "").strip()
    if not username:
        raise ValidationError({"username": _("Choose a username.")})
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": _("This username is taken: choose another, or sign in with it.")})
    user = User(username=username, email=email)
    try:
        User._meta.get_field("username").run_validators(username)
    except ValidationError as error:
        raise ValidationError({"username": error.messages}) from None
    try:
        validate_password(password, user)
    except ValidationError as error:
        raise ValidationError({"password": error.messages}) from None
    user.set_password(password)
    user.save()
    return user


@action
def create_member_with_temporary_password(
    tenant: Tenant, username: str, *, role: str, acting_user, email: str = ""
) -> tuple[Membership, str]:
    """A new user in `tenant` with a generated password, shown once to the admin; the person must
    choose their own at first sign-in. For companies whose people have no email."""
    _require_administrator(acting_user, tenant)
    validate_role(role)
    password = "".join(secrets.choice(TEMPORARY_PASSWORD_ALPHABET) for _ in range(TEMPORARY_PASSWORD_LENGTH))
    with transaction.atomic():
        user = _new_user(username, password, (email or "").strip())
        PasswordChangeRequired.objects.create(user=user)
        membership = Membership.objects.create(tenant=tenant, user=user, role=role)
        _audit_membership(membership, previous_role=None, temporary_password=True)
    return membership, password


def _set_active(membership: Membership, active: bool, acting_user) -> Membership:
    _require_administrator(acting_user, membership.tenant)
    with transaction.atomic():
        membership = locked_membership(membership)
        if membership.is_active == active:
            return membership
        if not active:
            check_keeps_an_admin(membership, deactivating=True)
            end_member_tokens(membership, "membership_deactivated")
        membership.is_active = active
        membership.save(update_fields=["is_active"])
        _audit_membership(membership, previous_role=membership.role, active=active)
    return membership


@action
def deactivate_member(membership: Membership, *, acting_user) -> Membership:
    """The member can no longer work in this company: their sessions in it end at their next
    request, their API tokens for it are revoked now. Their records and history stay."""
    return _set_active(membership, False, acting_user)


@action
def reactivate_member(membership: Membership, *, acting_user) -> Membership:
    """Let a deactivated member in again, with the role they had (their old API tokens stay revoked)."""
    return _set_active(membership, True, acting_user)


def require_people_reader(membership) -> None:
    """Admins manage the company's people; managers see them; nobody else does."""
    if membership is None or membership.role not in (Role.ADMIN, Role.MANAGER):
        raise PermissionDenied(_("Only administrators and managers may see the company's people."))
