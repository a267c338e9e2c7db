from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Action(models.TextChoices):
    """What an event records."""

    LOGIN = "login", _("login")
    LOGOUT = "logout", _("logout")
    LOGIN_FAILED = "login_failed", _("failed login")
    CREATE = "create", _("create")
    UPDATE = "update", _("update")
    DELETE = "delete", _("delete")
    RESTORE = "restore", _("restore")
    PURGE = "purge", _("purge")
    REVERT = "revert", _("revert")
    EXPORT = "export", _("export")
    IMPORT = "import", _("import")
    PERMISSION_GRANT = "permission_grant", _("permission granted")
    PERMISSION_REVOKE = "permission_revoke", _("permission revoked")
    SHARE = "share", _("shared")
    UNSHARE = "unshare", _("share ended")
    MEMBERSHIP = "membership", _("membership changed")
    SETTINGS = "settings", _("settings changed")
    BACKUP_REQUESTED = "backup_requested", _("backup requested")
    BACKUP_CREATED = "backup_created", _("backup created")
    BACKUP_FAILED = "backup_failed", _("backup failed")
    BACKUP_VERIFIED = "backup_verified", _("backup verified")
    RESTORE_REQUESTED = "restore_requested", _("restore requested")
    BACKUP_RESTORED = "backup_restored", _("backup restored")
    RESTORE_FAILED = "restore_failed", _("restore failed")
    BACKUP_CHECKED = "backup_checked", _("backup checked")
    ERASED = "erased", _("erased")
    LOCKOUT = "lockout", _("sign-in locked")
    LOCKOUT_CLEARED = "lockout_cleared", _("sign-in lock cleared")
    PASSWORD_CHANGED = "password_changed", _("password changed")
    PASSWORD_RESET = "password_reset", _("password reset")
    MFA_ENABLED = "mfa_enabled", _("two-factor sign-in enabled")
    MFA_DISABLED = "mfa_disabled", _("two-factor sign-in disabled")
    INVITED = "invited", _("invited")
    TOKEN_CREATED = "token_created", _("API token created")
    TOKEN_REVOKED = "token_revoked", _("API token revoked")
    RETENTION_PURGE = "retention_purge", _("retention purge")
    REFUSED = "refused", _("refused")
    APPROVAL_REQUESTED = "approval_requested", _("approval requested")
    APPROVAL_GRANTED = "approval_granted", _("approval granted")
    APPROVAL_REFUSED = "approval_refused", _("approval refused")
    IMPORT_REVERTED = "import_reverted", _("import reverted")
    MERGED = "merged", _("merged")
    MERGE_UNDONE = "merge_undone", _("merge undone")
    CLAIMED = "claimed", _("claimed from the pool")
    RECLAIMED = "reclaimed", _("returned to the pool")
    RELEASED = "released", _("released to the pool")
    ARCHIVING_FAILED = "archiving_failed", _("WAL archiving failed")
    WEBHOOK_FAILED = "webhook_failed", _("webhook delivery failed")
    CHECKPOINT = "checkpoint", _("checkpoint")


class ChainedEvent(models.Model):
    """One recorded action, append-only (a trigger refuses UPDATE and DELETE) and hash-chained.

    `detail` holds ids, field names and counts only, never personal data
    values, so erasing a person never forces rewriting the log.
    """

    Action = Action

    seq = models.PositiveBigIntegerField(_("sequence"))
    created_at = models.DateTimeField(_("time"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        verbose_name=_("actor"),
    )
    actor_username = models.CharField(_("actor"), max_length=150, blank=True)
    process = models.CharField(_("process"), max_length=100, blank=True)
    action = models.CharField(_("action"), max_length=30, choices=Action.choices)
    object_type = models.CharField(_("object type"), max_length=50, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    batch = models.UUIDField(_("batch"), null=True, blank=True)
    count = models.PositiveIntegerField(_("count"), default=0)
    request_id = models.CharField(_("request id"), max_length=64, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=300, blank=True)
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        abstract = True
        ordering = ["-created_at", "-seq"]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.actor_username or self.process} {self.action}"


class AuditEvent(ChainedEvent):
    """An action in one tenant, on that tenant's own chain.

    Tenant-owned like the records: tenant_id NOT NULL, database primary key
    (tenant_id, id), every index and unique key tenant first.
    """

    tenant = models.ForeignKey("tenancy.Tenant", on_delete=models.PROTECT, related_name="+", db_index=False)

    class Meta(ChainedEvent.Meta):
        db_table = "audit_auditevent"
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        constraints = [models.UniqueConstraint(fields=["tenant", "seq"], name="auditevent_tenant_seq_uniq")]
        indexes = [
            models.Index(fields=["tenant", "-created_at"], name="auditevent_tenant_time"),
            models.Index(fields=["tenant", "action", "-created_at"], name="auditevent_tenant_action"),
            models.Index(fields=["tenant", "object_type", "object_id"], name="auditevent_tenant_object"),
            models.Index(fields=["tenant", "actor", "-created_at"], name="auditevent_tenant_actor"),
        ]


class SystemEvent(ChainedEvent):
    """An action of the installation, not of a tenant (backups, drills, failed logins of
    unknown users), on the one system chain. Never shown to a tenant; never restored."""

    class Meta(ChainedEvent.Meta):
        db_table = "audit_systemevent"
        verbose_name = _("system event")
        verbose_name_plural = _("system events")
        constraints = [models.UniqueConstraint(fields=["seq"], name="systemevent_seq_uniq")]
        indexes = [
            models.Index(fields=["-created_at"], name="systemevent_time"),
            models.Index(fields=["action", "-created_at"], name="systemevent_action"),
            models.Index(fields=["object_type", "object_id"], name="systemevent_object"),
        ]


class ChainHead(models.Model):
    """A chain's last event as the nightly checkpoint saw it, kept apart from the events it vouches for.

    Append-only like the event tables (a trigger refuses UPDATE, DELETE and TRUNCATE) and
    never pruned. `chain` is the tenant's id as text, or "system" (audit.heads.chain_key):
    not a tenant_id column, because a company restore must not roll these rows back.
    """

    chain = models.CharField(_("chain"), max_length=20)
    seq = models.PositiveBigIntegerField(_("sequence"))
    event_id = models.BigIntegerField(_("event id"))
    hash = models.CharField(max_length=64)
    event_at = models.DateTimeField(_("event time"))
    recorded_at = models.DateTimeField(_("recorded"))

    class Meta:
        db_table = "audit_chainhead"
        verbose_name = _("audit chain head")
        verbose_name_plural = _("audit chain heads")
        ordering = ["chain", "-seq"]
        constraints = [models.UniqueConstraint(fields=["chain", "seq"], name="chainhead_chain_seq_uniq")]

    def __str__(self):
        return f"{self.chain} {self.seq} {self.hash[:12]}"
