import hashlib
import secrets
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.tenancy.context import current_tenant
from crm.tenancy.querysets import TenantManager, TenantQuerySet, membership_for
from crm.tenancy.roles import TENANT_ADMIN_ROLES, Role

SLUG_VALIDATOR = RegexValidator(
    r"^[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?$",
    _("Use 1 to 50 lower-case letters, digits and hyphens, starting and ending with a letter or digit."),
)


DUPLICATE_POLICIES = [("warn", _("warn, save after confirming")), ("block", _("block"))]
DUPLICATE_HELP = _("When a new or edited customer or contact has the same value as an existing one.")


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
    # The public customer pool (公海, pool/): customers without an owner, claimed by reps within
    # limits; a customer whose owner logged no interaction for a while returns to it.
    pool_enabled = models.BooleanField(
        _("public pool"), default=False, help_text=_("Customers without an owner are in the pool, for reps to claim.")
    )
    pool_claims_per_day = models.PositiveSmallIntegerField(
        _("claims per rep per day"), default=5, validators=[MinValueValidator(1), MaxValueValidator(1000)]
    )
    pool_max_held = models.PositiveIntegerField(
        _("customers a rep may hold"),
        default=200,
        validators=[MinValueValidator(1), MaxValueValidator(100000)],
        help_text=_("A rep who owns this many customers claims no more from the pool."),
    )
    pool_reclaim_days = models.PositiveSmallIntegerField(
        _("return to the pool after (days)"),
        default=30,
        validators=[MinValueValidator(2), MaxValueValidator(365)],
        help_text=_("A customer whose owner logged no interaction for this many days returns to the pool."),
    )
    pool_warn_days = models.PositiveSmallIntegerField(
        _("warn the owner (days before)"),
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(364)],
        help_text=_("The owner is told this many days before the customer returns to the pool."),
    )
    # Duplicate check at entry (customers.duplicates): per key, warn (save after confirming) or block.
    duplicate_email = models.CharField(
        _("same email"), max_length=5, choices=DUPLICATE_POLICIES, default="block", help_text=DUPLICATE_HELP
    )
    duplicate_phone = models.CharField(
        _("same phone"), max_length=5, choices=DUPLICATE_POLICIES, default="warn", help_text=DUPLICATE_HELP
    )
    duplicate_name = models.CharField(
        _("same name"), max_length=5, choices=DUPLICATE_POLICIES, default="warn", help_text=DUPLICATE_HELP
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

    def clean(self):
        super().clean()
        warn, reclaim = self.pool_warn_days, self.pool_reclaim_days
        if warn is not None and reclaim is not None and warn >= reclaim:
            raise ValidationError({"pool_warn_days": _("Warn fewer days before the return than the days it takes.")})


class MembershipQuerySet(models.QuerySet):
    def active(self):
        """Memberships that let their person in: neither the membership nor the user is deactivated."""
        return self.filter(is_active=True, user__is_active=True)


class Membership(models.Model):
    """A user's role in one tenant. A user may belong to several tenants."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("tenant"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("user")
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.VIEWER)
    is_active = models.BooleanField(
        _("active"), default=True, help_text=_("A deactivated member cannot sign in to this company until reactivated.")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [models.UniqueConstraint(fields=["tenant", "user"], name="membership_tenant_user_uniq")]

    def __str__(self):
        return f"{self.user} @ {self.tenant} ({self.role})"


def new_token_key() -> str:
    """160 random bits as 40 hex digits (the format keys have always had)."""
    return secrets.token_hex(20)


def token_digest(key: str) -> str:
    """What is stored of a key. SHA-256 is enough: a key is 160 random bits, not a password a person
    chose, so there is no dictionary to try and a slow hash would only slow down every API call."""
    return hashlib.sha256(key.encode()).hexdigest()


TOKEN_PREFIX_LENGTH = 8


class ApiTokenQuerySet(models.QuerySet):
    def alive(self):
        """Not revoked and not expired (whether the user and membership still are is checked at use)."""
        return self.filter(revoked_at__isnull=True).exclude(expires_at__lte=timezone.now())

    def for_user(self, user, everyone: bool = False):
        """Tokens of the active company the user may see and revoke: their own, or with `everyone`,
        all of the company's for its admins (anyone else still gets only their own)."""
        membership = membership_for(user)
        if membership is None:
            return self.none()
        tokens = self.filter(tenant_id=membership.tenant_id)
        if everyone and membership.role in TENANT_ADMIN_ROLES:
            return tokens
        return tokens.filter(user_id=membership.user_id)


class ApiToken(models.Model):
    """A REST API token: one user acting in one tenant, named, scoped, optionally expiring.

    Only the key's SHA-256 digest is stored; the key itself is shown once, when
    the token is made (`key` is then set on the instance, never saved). The
    first characters (`prefix`) tell tokens apart afterwards. Authentication
    looks the digest up before any tenant is known: a credential table, not
    tenant data.
    """

    class Scope(models.TextChoices):
        READ_ONLY = "read", _("read-only")
        READ_WRITE = "write", _("read and write")

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("tenant"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("user")
    )
    name = models.CharField(_("name"), max_length=100)
    scope = models.CharField(_("scope"), max_length=5, choices=Scope.choices, default=Scope.READ_WRITE)
    prefix = models.CharField(_("prefix"), max_length=TOKEN_PREFIX_LENGTH, editable=False)
    digest = models.CharField(_("digest"), max_length=64, unique=True, editable=False)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    last_used_ip = models.GenericIPAddressField(_("last used from"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["tenant", "user"], name="apitoken_tenant_user")]

    def __str__(self):
        return f"{self.name} ({self.prefix}…) {self.user} @ {self.tenant}"

    def set_new_key(self) -> str:
        self.key = new_token_key()
        self.prefix = self.key[:TOKEN_PREFIX_LENGTH]
        self.digest = token_digest(self.key)
        return self.key

    @property
    def read_only(self) -> bool:
        return self.scope == self.Scope.READ_ONLY

    @property
    def expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()


class Invitation(models.Model):
    """A one-time link to join a company with a role: the person sets a password, or joins with their account.

    Like an API token, only the SHA-256 digest of the link's key is stored, and
    the link is looked up by it before any company is known (a credential, not
    tenant data). It is used once and expires.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="invitations", verbose_name=_("tenant"))
    email = models.EmailField(_("email"))
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    digest = models.CharField(_("digest"), max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("invited by"),
        db_index=False,
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"))
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("accepted by"),
        db_index=False,
    )
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["tenant", "created_at"], name="invitation_tenant_created")]

    def __str__(self):
        return f"{self.email} @ {self.tenant} ({self.role})"

    def set_new_key(self) -> str:
        self.key = new_token_key()
        self.digest = token_digest(self.key)
        return self.key

    @property
    def usable(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > timezone.now()


class PasswordChangeRequired(models.Model):
    """The person signs in with a temporary password an admin gave them, and must choose their own first."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="password_change_required"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("password change required")
        verbose_name_plural = _("password changes required")

    def __str__(self):
        return str(self.user)


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
