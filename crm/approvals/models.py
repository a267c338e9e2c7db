"""Deletion approval (four eyes): a company's policy, and the requests that wait for a second person.

Access-like bookkeeping, not records: neither goes to the recycle bin nor comes
back with a company restore (like shares and settings).
"""

from datetime import timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.history.tracing import TracedHistory
from crm.tenancy.models import TenantModel


class ApprovalPolicy(TenantModel):
    """The company setting: whether deletes need a second person's approval, above how many records."""

    enabled = models.BooleanField(
        _("require approval"),
        default=False,
        help_text=_("Bulk deletes above the threshold and every permanent delete wait for a second person."),
    )
    bulk_threshold = models.PositiveIntegerField(
        _("bulk delete threshold"),
        default=20,
        validators=[MinValueValidator(1), MaxValueValidator(1000)],
        help_text=_("Deleting more records than this at once needs approval (1 to 1000)."),
    )
    expiry_hours = models.PositiveSmallIntegerField(
        _("hours to answer"),
        default=72,
        validators=[MinValueValidator(1), MaxValueValidator(720)],
        help_text=_("A request nobody answered in this many hours expires and changes nothing (1 to 720)."),
    )

    history = TracedHistory()

    class Meta(TenantModel.Meta):
        verbose_name = _("approval policy")
        verbose_name_plural = _("approval policies")
        constraints = [models.UniqueConstraint(fields=["tenant"], name="approvalpolicy_one_per_tenant")]

    def needs_approval(self, kind: str, count: int) -> bool:
        if not self.enabled:
            return False
        return kind != ApprovalRequest.Kind.BULK_DELETE or count > self.bulk_threshold


class ApprovalRequest(TenantModel):
    """One delete or purge waiting for a second person: what, how many, why, and how it ended."""

    class Kind(models.TextChoices):
        BULK_DELETE = "bulk_delete", _("Bulk delete")
        PURGE = "purge", _("Permanent delete")
        EMPTY_BIN = "empty_bin", _("Empty the recycle bin")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        APPROVED = "approved", _("Approved")
        REFUSED = "refused", _("Refused")
        EXPIRED = "expired", _("Expired")

    kind = models.CharField(_("what"), max_length=20, choices=Kind.choices)
    record_type = models.CharField(_("record type"), max_length=50, blank=True)
    items = models.JSONField(_("records"), default=list, help_text=_('"type:id" of each record'))
    count = models.PositiveIntegerField(_("how many"))
    reason = models.TextField(_("why"), max_length=1000, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", db_index=False
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    created_at = models.DateTimeField(_("requested"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    outcome_seen = models.BooleanField(default=False)  # the requester was told how it ended
    result = models.JSONField(default=dict, blank=True)  # counts of what approving changed
    batch = models.UUIDField(null=True, blank=True)  # a bulk delete's batch: undo

    history = TracedHistory()

    class Meta(TenantModel.Meta):
        verbose_name = _("approval request")
        verbose_name_plural = _("approval requests")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "status", "expires_at"], name="approvalrequest_status"),
            models.Index(fields=["tenant", "requested_by", "-created_at"], name="approvalrequest_requester"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} #{self.pk}"

    @staticmethod
    def expiry(policy) -> timezone.datetime:
        return timezone.now() + timedelta(hours=policy.expiry_hours)

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.PENDING and self.expires_at > timezone.now()
