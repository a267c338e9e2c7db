"""A file on a customer, contact, opportunity or ticket, its bytes in PostgreSQL.

The bytes live in AttachmentChunk rows of at most CHUNK_BYTES (256 KiB) each, in the same
database as the records, so every backup, its copy, encryption, drills and
restores cover them with no machinery of their own (docs/architecture.md,
"Backups"); uploads and downloads go chunk by chunk, never whole in memory.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from attachments.querysets import AttachmentQuerySet
from crm.history.tracing import TracedHistory
from crm.records.models import PurgePermissionBase, managers_for, soft_delete_indexes, tenant_foreign_key
from crm.tenancy.models import TenantModel
from customers.models import Contact, Customer, CustomerChild, Ticket
from sales.models import Opportunity

# 256 KiB: a chunk in flight costs several times its size in Python (the driver escapes it into
# the statement, then the statement itself), so this keeps an upload's memory near 1 MB.
CHUNK_BYTES = 256 * 1024
# The record a file hangs off, most specific first; the customer is always set.
RECORD_FIELDS = ("ticket", "opportunity", "contact", "customer")


class Attachment(CustomerChild):
    contact = tenant_foreign_key(Contact, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("contact"))
    opportunity = tenant_foreign_key(
        Opportunity, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("opportunity")
    )
    ticket = tenant_foreign_key(Ticket, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("ticket"))
    name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.BigIntegerField(_("size"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("uploaded by"),
        db_index=False,
    )
    created_at = models.DateTimeField(_("uploaded"), auto_now_add=True)

    objects, deleted, all_objects = managers_for(AttachmentQuerySet)
    history = TracedHistory()

    class Meta(CustomerChild.Meta):
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        permissions = [("purge_attachment", "Can permanently delete attachment")]
        ordering = ["-created_at", "-id"]
        default_related_name = "attachments"
        constraints = [
            models.CheckConstraint(
                condition=Q(contact__isnull=True, opportunity__isnull=True)
                | Q(contact__isnull=True, ticket__isnull=True)
                | Q(opportunity__isnull=True, ticket__isnull=True),
                name="attachment_one_record",
            ),
            models.CheckConstraint(condition=Q(size__gte=0), name="attachment_size_non_negative"),
        ]
        indexes = [
            *soft_delete_indexes("attachment"),
            models.Index(fields=["tenant", "customer", "-created_at"], name="attachment_tenant_customer"),
            models.Index(fields=["tenant", "contact"], name="attachment_tenant_contact"),
            models.Index(fields=["tenant", "opportunity"], name="attachment_tenant_opportunity"),
            models.Index(fields=["tenant", "ticket"], name="attachment_tenant_ticket"),
        ]

    def __str__(self):
        return self.name

    @property
    def record(self):
        """The record the file is on: its ticket, opportunity or contact, else its customer."""
        return next(getattr(self, name) for name in RECORD_FIELDS if getattr(self, f"{name}_id"))

    def get_absolute_url(self):
        return self.record.get_absolute_url()

    def get_download_url(self):
        return reverse("attachments:download", args=[self.pk])


class AttachmentChunk(TenantModel):
    """Up to CHUNK_BYTES of an attachment's bytes. Written once, never changed: no history of its own
    (the attachment's history records upload and removal); a purge of the attachment deletes them."""

    attachment = tenant_foreign_key(Attachment, on_delete=models.CASCADE, related_name="chunks")
    seq = models.PositiveIntegerField()
    data = models.BinaryField()

    class Meta(TenantModel.Meta):
        constraints = [
            models.UniqueConstraint(fields=["tenant", "attachment", "seq"], name="attachmentchunk_uniq"),
        ]


class AttachmentPurgePermission(PurgePermissionBase):
    content_object = tenant_foreign_key(Attachment, on_delete=models.CASCADE)

    class Meta(PurgePermissionBase.Meta):
        indexes = [models.Index(fields=["tenant", "content_object"], name="attachmentpurge_object")]


def holders() -> dict[str, type]:
    """{API resource: model} of the records that hold files."""
    return {"customers": Customer, "contacts": Contact, "opportunities": Opportunity, "tickets": Ticket}
