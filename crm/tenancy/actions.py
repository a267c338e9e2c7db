"""Writes to companies, memberships, tokens and preferences: one action each.

Who may: the system (management commands, tasks), installation staff (the
Django admin), and for one company's own settings and people, its admins.
Every change of access or settings is an audit event in that company's log.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.events import record as audit
from audit.events import record_system
from audit.models import AuditEvent
from crm.tenancy.acting import action, is_staff
from crm.tenancy.models import ApiToken, Membership, Tenant, UserPreference
from crm.tenancy.roles import TENANT_ADMIN_ROLES, Role

User = get_user_model()

SETTINGS_FIELDS = (
    "name",
    "retention_days",
    "legal_hold",
    "mfa_required",
    # the public pool (pool/)
    "pool_enabled",
    "pool_claims_per_day",
    "pool_max_held",
    "pool_reclaim_days",
    "pool_warn_days",
    "duplicate_email",
    "duplicate_phone",
    "duplicate_name",
)


def validate_role(role: str) -> str:
    if role not in Role.values:
        raise ValidationError(
            _("Unknown role %(role)s: choose one of %(roles)s.") % {"role": role, "roles": ", ".join(Role.values)}
        )
    return role


def may_administer(user, tenant) -> bool:
    """The system (None), installation staff, or an admin of `tenant`."""
    if user is None or is_staff(user):
        return True
    return Membership.objects.active().filter(tenant=tenant, user=user, role__in=TENANT_ADMIN_ROLES).exists()


def _require_administrator(user, tenant) -> None:
    if not may_administer(user, tenant):
        raise PermissionDenied(_("Only administrators may change company settings."))


@action
def create_tenant(*, slug: str, name: str, admin_username: str, admin_password: str, acting_user) -> Tenant:
    """A new company with its first admin (an existing user just gains the membership)."""
    if acting_user is not None and not is_staff(acting_user):
        raise PermissionDenied(_("Only staff may create companies."))
    with transaction.atomic():
        if Tenant.objects.filter(slug=slug).exists():
            raise ValidationError(_("A tenant with slug %(slug)s already exists.") % {"slug": slug})
        tenant = add_tenant(Tenant(slug=slug, name=name or slug), acting_user=acting_user)
        add_member(tenant, admin_username, role=Role.ADMIN, password=admin_password, acting_user=acting_user)
    return tenant


@action
def add_tenant(tenant: Tenant, *, acting_user) -> Tenant:
    """Save a new company (its first admin comes with add_member); the first event of its log."""
    if acting_user is not None and not is_staff(acting_user):
        raise PermissionDenied(_("Only staff may create companies."))
    with transaction.atomic():
        tenant.full_clean()
        tenant.save()
        audit(AuditEvent.Action.CREATE, tenant=tenant, target=tenant)
    return tenant


@action
def add_member(
    tenant: Tenant, username: str, *, role: str, acting_user, password: str | None = None, email: str = ""
) -> Membership:
    """Create the user if new (password required) and give them `role` in `tenant`."""
    _require_administrator(acting_user, tenant)
    validate_role(role)
    with transaction.atomic():
        user = User.objects.filter(username=username).first()
        if user is None:
            if not password:
                raise ValidationError(_("A new user needs a password."))
            user = User(username=username, email=email)
            User._meta.get_field("username").run_validators(username)
            validate_password(password, user)
            user.set_password(password)
            user.save()
        elif password:
            validate_password(password, user)
            user.set_password(password)
            user.save(update_fields=["password"])
        membership = Membership.objects.filter(tenant=tenant, user=user).first()
        if membership is None:
            membership = Membership.objects.create(tenant=tenant, user=user, role=role)
            _audit_membership(membership, previous_role=None)
        elif membership.role != role:
            set_member_role(membership, role, acting_user=acting_user)
    return membership


def _audit_membership(membership, *, previous_role, removed=False, **extra) -> None:
    """One MEMBERSHIP event: whose (user_id), the new role (None: removed) and the old (None: added)."""
    detail = {
        "user_id": membership.user_id,
        "role": None if removed else membership.role,
        "previous_role": previous_role,
        **extra,
    }
    audit(AuditEvent.Action.MEMBERSHIP, tenant=membership.tenant_id, target=membership, detail=detail)


def lock_people(tenant_id) -> None:
    """Serialise changes to one company's memberships (the last-admin rule reads them all).

    FOR NO KEY UPDATE on the company's row: two admins demoting each other queue
    up here, and the second sees the first's commit; rows that merely reference
    the company (their FOR KEY SHARE checks) do not wait.
    """
    Tenant.objects.select_for_update(no_key=True).only("pk").get(pk=tenant_id)


def locked_membership(membership: Membership) -> Membership:
    """The membership's current row, read under the company's people lock (inside a transaction)."""
    lock_people(membership.tenant_id)
    return Membership.objects.select_for_update(of=("self",)).select_related("tenant", "user").get(pk=membership.pk)


def _is_active_admin(membership) -> bool:
    return membership.role == Role.ADMIN and membership.is_active and membership.user.is_active


def check_keeps_an_admin(membership, *, new_role=None, deactivating=False) -> None:
    """A company always keeps at least one admin (call under lock_people)."""
    if not _is_active_admin(membership) or (new_role == Role.ADMIN and not deactivating):
        return
    others = Membership.objects.active().filter(tenant_id=membership.tenant_id, role=Role.ADMIN)
    if not others.exclude(pk=membership.pk).exists():
        raise ValidationError(_("A company needs at least one admin: make someone else admin first."))


@action
def set_member_role(membership: Membership, role: str, *, acting_user) -> Membership:
    _require_administrator(acting_user, membership.tenant)
    validate_role(role)
    with transaction.atomic():
        membership = locked_membership(membership)
        previous = membership.role
        if previous == role:
            return membership
        check_keeps_an_admin(membership, new_role=role)
        membership.role = role
        membership.save(update_fields=["role"])
        _audit_membership(membership, previous_role=previous)
    return membership


@action
def make_staff(user, *, acting_user):
    """Make someone installation staff: the Django admin, whole-database backups and restores."""
    if acting_user is not None and not is_staff(acting_user):
        raise PermissionDenied(_("Only staff may make someone staff."))
    if user.is_staff:
        return user
    with transaction.atomic():
        user.is_staff = True
        user.save(update_fields=["is_staff"])
        record_system(AuditEvent.Action.PERMISSION_GRANT, target=user, detail={"staff": True})
    return user


@action
def remove_member(membership: Membership, *, acting_user) -> None:
    """End someone's membership of a company; their API tokens for it go with it, and their
    sessions in it end at their next request (crm.tenancy.middleware)."""
    _require_administrator(acting_user, membership.tenant)
    with transaction.atomic():
        membership = locked_membership(membership)
        check_keeps_an_admin(membership, deactivating=True)
        end_member_tokens(membership, "membership_ended")
        _audit_membership(membership, previous_role=membership.role, removed=True)
        membership.delete()


def end_member_tokens(membership, reason: str) -> int:
    """Revoke the member's API tokens in the membership's company (inside the caller's action)."""
    return _revoke(ApiToken.objects.filter(tenant_id=membership.tenant_id, user_id=membership.user_id), reason)


@action
def update_tenant_settings(tenant: Tenant, *, acting_user, **values) -> Tenant:
    """Change a company's recycle-bin retention and legal hold; recorded with the fields changed.

    Works on a fresh copy of the row, so a refused change leaves the caller's object as it was.
    """
    _require_administrator(acting_user, tenant)
    unknown = set(values) - set(SETTINGS_FIELDS)
    if unknown:
        raise ValidationError(_("Unknown settings: %(names)s.") % {"names": ", ".join(sorted(unknown))})
    with transaction.atomic():
        fresh = Tenant.objects.select_for_update().get(pk=tenant.pk)
        changed = sorted(name for name, value in values.items() if getattr(fresh, name) != value)
        for name, value in values.items():
            setattr(fresh, name, value)
        fresh.full_clean()
        if changed:
            fresh.save(update_fields=changed)
            audit(
                AuditEvent.Action.SETTINGS, tenant=fresh, target=fresh, detail={name: values[name] for name in changed}
            )
    return fresh


def _token_detail(token: ApiToken, **extra) -> dict:
    return {"user_id": token.user_id, "prefix": token.prefix, "scope": token.scope, **extra}


def _may_manage_token(acting_user, token: ApiToken) -> bool:
    """The system, staff, the token's owner, or an admin of its company."""
    return acting_user is None or acting_user.pk == token.user_id or may_administer(acting_user, token.tenant_id)


def _clean_token_fields(name: str, scope: str, expires_at) -> str:
    name = (name or "").strip()
    if not name or "\x00" in name:
        raise ValidationError({"name": _("Give the token a name, e.g. the integration that uses it.")})
    if len(name) > ApiToken._meta.get_field("name").max_length:
        raise ValidationError({"name": _("A token's name has at most 100 characters.")})
    if scope not in ApiToken.Scope.values:
        raise ValidationError({"scope": _("Choose read-only or read and write.")})
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": _("The expiry must be in the future.")})
    return name


@action
def create_api_token(
    tenant: Tenant, user, *, name: str, acting_user, scope: str = ApiToken.Scope.READ_WRITE, expires_at=None
) -> ApiToken:
    """A new token of `user` in `tenant`; its key is on the returned object only (`token.key`), never stored."""
    if acting_user is not None and acting_user.pk != user.pk and not is_staff(acting_user):
        raise PermissionDenied(_("You may create API tokens only for yourself."))
    name = _clean_token_fields(name, scope, expires_at)
    if not Membership.objects.filter(tenant=tenant, user=user, user__is_active=True).exists():
        raise ValidationError(
            _("%(user)s is not a member of tenant %(tenant)s.") % {"user": user.get_username(), "tenant": tenant.slug}
        )
    token = ApiToken(tenant=tenant, user=user, name=name, scope=scope, expires_at=expires_at)
    token.set_new_key()
    with transaction.atomic():
        token.save()
        audit(AuditEvent.Action.TOKEN_CREATED, tenant=tenant, target=token, detail=_token_detail(token))
    return token


@action
def api_token_for(tenant: Tenant, username: str, *, acting_user, name: str = "manage.py api_token") -> ApiToken:
    """A new token of the member `username` in `tenant` (`manage.py api_token`); the key is `token.key`."""
    membership = Membership.objects.select_related("user").filter(tenant=tenant, user__username=username).first()
    if membership is None:
        raise ValidationError(
            _("%(user)s is not a member of tenant %(tenant)s.") % {"user": username, "tenant": tenant.slug}
        )
    return create_api_token(tenant, membership.user, name=name, acting_user=acting_user)


def _revoke(tokens, reason: str) -> int:
    """Revoke the alive ones of `tokens` (a queryset), one audit event each."""
    now = timezone.now()
    revoked = list(tokens.filter(revoked_at__isnull=True).select_for_update().order_by("pk"))
    for token in revoked:
        token.revoked_at = now
        audit(
            AuditEvent.Action.TOKEN_REVOKED,
            tenant=token.tenant_id,
            target=token,
            detail=_token_detail(token, reason=reason),
        )
    ApiToken.objects.filter(pk__in=[token.pk for token in revoked]).update(revoked_at=now)
    return len(revoked)


@action
def revoke_api_token(token: ApiToken, *, acting_user, reason: str = "revoked") -> None:
    """The token stops working at once: its next request gets a 401."""
    if not _may_manage_token(acting_user, token):
        raise PermissionDenied(_("You may not revoke another member's API token."))
    with transaction.atomic():
        _revoke(ApiToken.objects.filter(pk=token.pk), reason)
    token.refresh_from_db(fields=["revoked_at"])


@action
def rotate_api_token(token: ApiToken, *, acting_user) -> ApiToken:
    """A new key with the same name, scope and expiry; the old token is revoked. Only its owner sees the new key."""
    if acting_user is not None and acting_user.pk != token.user_id:
        raise PermissionDenied(_("Only the token's owner may rotate it."))
    with transaction.atomic():
        if not _revoke(ApiToken.objects.alive().filter(pk=token.pk), "rotated"):
            raise ValidationError(_("This token was revoked or has expired: create a new one."))
        return create_api_token(
            token.tenant,
            token.user,
            name=token.name,
            scope=token.scope,
            expires_at=token.expires_at,
            acting_user=acting_user,
        )


@action
def end_user_api_tokens(user, *, acting_user, reason: str) -> int:
    """Revoke all of `user`'s tokens in every company (a password change); returns how many."""
    if acting_user is not None and acting_user.pk != user.pk and not is_staff(acting_user):
        raise PermissionDenied(_("You may not end another person's API tokens."))
    with transaction.atomic():
        return _revoke(ApiToken.objects.filter(user=user), reason)


@action
def save_preferences(user, *, acting_user, language: str, time_zone: str) -> UserPreference:
    if acting_user is not None and acting_user.pk != user.pk:
        raise PermissionDenied(_("You may change only your own preferences."))
    preference, _created = UserPreference.objects.update_or_create(
        user=user, defaults={"language": language, "time_zone": time_zone}
    )
    return preference
