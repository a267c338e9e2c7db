"""The erasure ledger: which records were erased at a person's request, ids only.

It outlives every restore (a restore brings back record types only: backups.restore_rows.restored_models) and is applied again
after one (privacy.receivers), so an erased person never comes back from a backup.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.tenancy.models import TenantModel


class Erasure(TenantModel):
    """One erased record: the request's root record and each record erased with it."""

    record_type = models.CharField(_("record type"), max_length=50)
    record_id = models.BigIntegerField(_("record id"))
    erased_at = models.DateTimeField(_("erased at"))
    erased_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        verbose_name=_("erased by"),
    )
    # The audit event (audit.AuditEvent, Action.ERASED) that recorded the erasure, and its hash.
    event_id = models.BigIntegerField(_("audit event"))
    event_hash = models.CharField(_("audit event hash"), max_length=64)

    class Meta(TenantModel.Meta):
        verbose_name = _("erasure")
        verbose_name_plural = _("erasures")
        ordering = ["-erased_at", "record_type", "record_id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "record_type", "record_id"], name="erasure_record_uniq"),
        ]
        indexes = [models.Index(fields=["tenant", "event_id"], name="erasure_tenant_event")]

    def __str__(self):
        return f"{self.record_type} {self.record_id}"
