"""A ticket's conversation: replies to the customer, internal notes and logged customer replies.

Each message is a record of its own (history, audit, the recycle bin with its
ticket's batch, /api/v1/ticket-messages/); whoever may see the ticket reads its
messages. Imported by customers.models, so Django finds the models there.
"""

from django.conf import settings
from django.db import models
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
from customers.querysets import TicketMessageQuerySet


class TicketMessage(SoftDeleteModel):
    class Kind(models.TextChoices):
        REPLY = "reply", _("Reply to the customer")
        NOTE = "note", _("Internal note")
        CUSTOMER = "customer", _("Reply from the customer")

    # What an agent's answer is: the first one sets the ticket's first response time.
    AGENT_REPLIES = (Kind.REPLY,)

    ticket = tenant_foreign_key("customers.Ticket", on_delete=models.PROTECT, verbose_name=_("ticket"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.REPLY)
    body = models.TextField(_("text"), max_length=10000)
    # Always the person who wrote (or logged) it: set by the action, never by a form or the API.
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("author"),
        db_index=False,
        editable=False,
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects, deleted, all_objects = managers_for(TicketMessageQuerySet)
    history = TracedHistory()

    class Meta(SoftDeleteModel.Meta):
        verbose_name = _("ticket message")
        verbose_name_plural = _("ticket messages")
        permissions = [("purge_ticketmessage", "Can permanently delete ticket message")]
        ordering = ["created_at", "id"]
        default_related_name = "messages"
        indexes = [
            *soft_delete_indexes("ticketmessage"),
            # The thread of a ticket, oldest first.
            models.Index(fields=["tenant", "ticket", "created_at", "id"], name="ticketmessage_thread"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.body[:60]}"

    def get_absolute_url(self):
        return reverse("tickets:detail", args=[self.ticket_id]) + f"#message-{self.pk}"

    def save(self, *args, **kwargs):
        if self.tenant_id is None and self.ticket_id:
            self.tenant_id = self.ticket.tenant_id
        if self.ticket.tenant_id != self.tenant_id:
            raise ValueError("A message and its ticket must belong to the same tenant.")
        super().save(*args, **kwargs)


class TicketMessagePurgePermission(PurgePermissionBase):
    content_object = tenant_foreign_key(TicketMessage, on_delete=models.CASCADE)

    class Meta(PurgePermissionBase.Meta):
        indexes = [models.Index(fields=["tenant", "content_object"], name="ticketmessagepurge_object")]
