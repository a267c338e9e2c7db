"""Writes to tenants, memberships, tokens and preferences (one place each)."""

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from audit.events import record as audit
from audit.models import AuditEvent
from crm.permissions import Role
from crm.tenancy.models import ApiToken, Membership, Tenant, UserPreference

User = get_user_model()


def validate_role(role: str) -> str:
    if role not in Role.values:
        raise ValidationError(
            _("Unknown role %(role)s: choose one of %(roles)s.") % {"role": role, "roles": ", ".join(Role.values)}
        )
    return role


@transaction.atomic
def create_tenant(*, slug: str, name: str, admin_username: str, admin_password: str) -> Tenant:
    """A new tenant with its first admin (an existing user just gains the membership)."""
    if Tenant.objects.filter(slug=slug).exists():
        raise ValidationError(_("A tenant with slug %(slug)s already exists.") % {"slug": slug})
    tenant = Tenant(slug=slug, name=name or slug)
    tenant.full_clean()
    tenant.save()
    add_member(tenant, admin_username, role=Role.ADMIN, password=admin_password)
    return tenant


@transaction.atomic
def add_member(tenant: Tenant, username: str, *, role: str, password: str | None = None, email: str = "") -> Membership:
    """Create the user if new (password required) and give them `role` in `tenant`."""
    validate_role(role)
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
    membership, created = Membership.objects.get_or_create(tenant=tenant, user=user, defaults={"role": role})
    previous = None if created else membership.role
    if not created and membership.role != role:
        membership.role = role
        membership.save(update_fields=["role"])
    if created or previous != role:
        audit(
            AuditEvent.Action.MEMBERSHIP,
            tenant=tenant,
            target=membership,
            detail={"user_id": user.pk, "role": role, "previous_role": previous},
        )
    return membership


@transaction.atomic
def update_tenant_settings(tenant: Tenant, **values) -> Tenant:
    """Change a tenant's settings (retention, legal hold); recorded with the fields changed."""
    changed = sorted(name for name, value in values.items() if getattr(tenant, name) != value)
    for name, value in values.items():
        setattr(tenant, name, value)
    tenant.full_clean()
    if changed:
        tenant.save(update_fields=changed)
        audit(AuditEvent.Action.SETTINGS, tenant=tenant, target=tenant, detail={name: values[name] for name in changed})
    return tenant


def api_token_for(tenant: Tenant, username: str) -> ApiToken:
    """The user's token in `tenant`, created if missing; members only."""
    membership = Membership.objects.select_related("user").filter(tenant=tenant, user__username=username).first()
    if membership is None:
        raise ValidationError(
            _("%(user)s is not a member of tenant %(tenant)s.") % {"user": username, "tenant": tenant.slug}
        )
    token, _created = ApiToken.objects.get_or_create(tenant=tenant, user=membership.user)
    return token


def save_preferences(user, *, language: str, time_zone: str) -> UserPreference:
    preference, _created = UserPreference.objects.update_or_create(
        user=user, defaults={"language": language, "time_zone": time_zone}
    )
    return preference
