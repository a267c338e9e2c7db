"""Outbound webhooks: a company's endpoints and the log of what was sent to them (docs/webhooks.md)."""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from crm.history.tracing import TracedHistory
from crm.records.models import (
    PurgePermissionBase,
    SoftDeleteModel,
    managers_for,
    soft_delete_indexes,
    tenant_foreign_key,
)
from crm.tenancy.models import TenantModel
from webhooks.querysets import EndpointQuerySet

RECORD_TYPES = ("customer", "contact", "opportunity", "ticket", "task")
VERBS = ("created", "updated", "deleted", "restored")
EVENTS = (*(f"{name}.{verb}" for name in RECORD_TYPES for verb in VERBS), "opportunity.stage_changed")
PING = "ping"


class Preset(models.TextChoices):
    GENERIC = "generic", _("JSON, signed (any receiver)")
    WECOM = "wecom", _("WeCom group robot")
    DINGTALK = "dingtalk", _("DingTalk robot")


class Endpoint(SoftDeleteModel):
    """Where a company's events are posted. The secret is never shown again after it is set."""

    name = models.CharField(_("name"), max_length=100)
    url = models.URLField(_("URL"), max_length=500)
    preset = models.CharField(_("format"), max_length=10, choices=Preset.choices, default=Preset.GENERIC)
    # Generic: the HMAC key of the signature header; DingTalk: the robot's signing secret (optional).
    # Kept out of the history rows and the forms (editable=False): the actions set it.
    secret = models.CharField(_("secret"), max_length=200, blank=True, editable=False)
    events = ArrayField(models.CharField(max_length=40), verbose_name=_("events"), default=list)
    language = models.CharField(_("message language"), max_length=10, choices=settings.LANGUAGES, default="en")
    active = models.BooleanField(_("active"), default=True)
    # Set when a delivery gave up after its last attempt; cleared by the next one that succeeds.
    failing_since = models.DateTimeField(_("failing since"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects, deleted, all_objects = managers_for(EndpointQuerySet)
    history = TracedHistory(excluded_fields=["secret"])

    class Meta(SoftDeleteModel.Meta):
        verbose_name = _("webhook")
        verbose_name_plural = _("webhooks")
        permissions = [("purge_endpoint", "Can permanently delete webhook")]
        ordering = ["name", "id"]
        indexes = [
            *soft_delete_indexes("endpoint"),
            models.Index(
                fields=["tenant"], condition=Q(active=True, deleted_at__isnull=True), name="endpoint_tenant_active"
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("webhooks:detail", args=[self.pk])


class EndpointPurgePermission(PurgePermissionBase):
    content_object = tenant_foreign_key(Endpoint, on_delete=models.CASCADE)

    class Meta(PurgePermissionBase.Meta):
        indexes = [models.Index(fields=["tenant", "content_object"], name="endpointpurge_object")]


class Delivery(TenantModel):
    """One event for one endpoint and what became of it. Holds ids, never record values."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        RETRYING = "retrying", _("retrying")
        DELIVERED = "delivered", _("delivered")
        FAILED = "failed", _("failed")
        SKIPPED = "skipped", _("skipped")

    endpoint = tenant_foreign_key(
        Endpoint, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("webhook")
    )
    uid = models.UUIDField(_("delivery id"))
    event = models.CharField(_("event"), max_length=40)
    # The event as sent: type, ids, batch, counts, changed field names (no values).
    payload = models.JSONField(_("payload"), default=dict)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    status_code = models.PositiveSmallIntegerField(_("status code"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)
    next_retry_at = models.DateTimeField(_("next retry"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta(TenantModel.Meta):
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["tenant", "endpoint", "-created_at", "-id"], name="delivery_log")]

    def __str__(self):
        return f"{self.event} #{self.pk}"
