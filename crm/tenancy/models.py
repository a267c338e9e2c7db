import secrets
import zoneinfo

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.tenancy.context import current_tenant
from crm.tenancy.querysets import TenantManager, TenantQuerySet
from crm.tenancy.roles import Role

SLUG_VALIDATOR = RegexValidator(
    r"^[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?$",
    _("Use 1 to 50 lower-case letters, digits and hyphens, starting and ending with a letter or digit."),
)


class Tenant(models.Model):
    """A company using the CRM. Its rows never mix with another tenant's."""

    name = models.CharField(_("name"), max_length=200)
    slug = models.CharField(_("slug"), max_length=50, unique=True, validators=[SLUG_VALIDATOR])
    retention_days = models.PositiveSmallIntegerField(
        _("recycle bin retention (days)"),
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text=_("Deleted records are purged this many days after deletion (1 to 365)."),
    )
    legal_hold = models.BooleanField(
        _("legal hold"), default=False, help_text=_("While on, nothing in this tenant is purged.")
    )
    mfa_required = models.CharField(
        _("two-factor sign-in required"),
        max_length=10,
        choices=[("", _("of nobody")), ("admins", _("of admins")), ("everyone", _("of everyone"))],
        default="",
        blank=True,
        help_text=_("Members it applies to enrol at their next sign-in, and then give a code at each."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("tenant")
        verbose_name_plural = _("tenants")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(retention_days__gte=1, retention_days__lte=365),
                name="tenant_retention_days_range",
            )
        ]

    def __str__(self):
        return self.name


class MembershipQuerySet(models.QuerySet):
    def active(self):
        return self.filter(user__is_active=True)


class Membership(models.Model):
    """A user's role in one tenant. A user may belong to several tenants."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("tenant"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("user")
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [models.UniqueConstraint(fields=["tenant", "user"], name="membership_tenant_user_uniq")]

    def __str__(self):
        return f"{self.user} @ {self.tenant} ({self.role})"


def new_token_key() -> str:
    return secrets.token_hex(20)


class ApiToken(models.Model):
    """A REST API token: one user acting in one tenant (`manage.py api_token`).

    The key is the primary key because authentication looks it up before any
    tenant is known; it is a credential table, not tenant data.
    """

    key = models.CharField(_("key"), max_length=40, primary_key=True, default=new_token_key, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="api_tokens")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        constraints = [models.UniqueConstraint(fields=["tenant", "user"], name="apitoken_tenant_user_uniq")]

    def __str__(self):
        return f"{self.user} @ {self.tenant}"


def time_zone_choices():
    return [(name, name) for name in sorted(zoneinfo.available_timezones())]


class UserPreference(models.Model):
    """Per-user language and time zone (empty = the installation's defaults)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preference")
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES, blank=True)
    time_zone = models.CharField(_("time zone"), max_length=64, choices=time_zone_choices, blank=True)

    class Meta:
        verbose_name = _("user preference")
        verbose_name_plural = _("user preferences")

    def __str__(self):
        return str(self.user)


class TenantModel(models.Model):
    """Base of every tenant-owned model.

    `objects` is scoped to the active tenant and raises when there is none;
    `all_objects` is for system code that works across tenants (backups,
    retention) and for related-object access.
    """

    # Every index of a tenant-owned table starts with tenant_id; no lone FK indexes.
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, editable=False, related_name="+", db_index=False)

    objects = TenantManager()
    all_objects = models.Manager.from_queryset(TenantQuerySet)()

    class Meta:
        abstract = True
        base_manager_name = "all_objects"

    def save(self, *args, **kwargs):
        if self.tenant_id is None:
            self.tenant = current_tenant()
        super().save(*args, **kwargs)
