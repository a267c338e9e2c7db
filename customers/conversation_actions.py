"""Writes to a ticket's conversation, and the overdue-ticket notice: one action per operation."""

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.events import record as audit
from audit.models import AuditEvent
from crm.history.bulk import write_bulk_history
from crm.records import actions as records
from crm.tenancy.acting import action
from crm.tenancy.context import current_tenant
from customers.models import PENDING_OVERDUE_SQL, Ticket, TicketMessage


@action
def add_ticket_message(ticket: Ticket, kind: str, body: str, *, acting_user, **values) -> TicketMessage:
    """A reply, an internal note or a logged customer reply; its author is whoever adds it.

    The first reply to the customer sets the ticket's first response time. A reply (the
    customer's, logged, or a colleague's) notifies the ticket's assignee, unless they wrote it.
    """
    if "author" in values:
        raise ValidationError({"author": _("The author of a message is whoever adds it.")})
    records.require(acting_user, "add", TicketMessage)
    if acting_user is not None and not Ticket.objects.for_user(acting_user, "view").filter(pk=ticket.pk).exists():
        raise ValidationError({"ticket": _("That ticket is not visible to you.")})
    with transaction.atomic():
        message = records.create(
            TicketMessage,
            ticket=ticket,
            tenant_id=ticket.tenant_id,
            kind=kind,
            body=body,
            author=acting_user,
            acting_user=acting_user,
            **values,
        )
        if kind in TicketMessage.AGENT_REPLIES:
            # Read under the ticket's lock: of two first replies at once, the earlier one counts.
            answered = (
                Ticket.all_objects.filter(pk=ticket.pk)
                .select_for_update(of=("self",))
                .values_list("first_response_at", flat=True)
                .first()
            )
            if answered is None:
                # Whoever may add messages may change the tickets they see (the roles' rights agree).
                records.update(ticket, first_response_at=message.created_at, acting_user=acting_user)
        if (
            kind != TicketMessage.Kind.NOTE
            and ticket.assignee_id
            and ticket.assignee_id != getattr(acting_user, "pk", None)
        ):
            from activities.models import Kind
            from activities.notify import deliver

            deliver([(ticket.assignee_id, "ticket", ticket.pk, ticket.subject)], Kind.TICKET_REPLY)
    return message


@action
def update_ticket_message(message: TicketMessage, *, acting_user, **values) -> TicketMessage:
    """Correct a message's text; its ticket, kind and author stay as they were."""
    for name in ("ticket", "kind", "author"):
        if name in values and values.pop(name) != getattr(message, name):
            raise ValidationError({name: _("This cannot be changed once the message is written.")})
    return records.update(message, acting_user=acting_user, **values)


# Claim the overdue tickets and mark them in one statement: each is returned to exactly one
# caller, however many workers run the job or run it again after a restart. The partial index
# ticket_overdue_pending holds exactly the tickets still waiting.
_CLAIM_OVERDUE = f"""
UPDATE customers_ticket SET overdue_notified_at = %(now)s
WHERE tenant_id = %(tenant)s AND due_at <= %(now)s AND {PENDING_OVERDUE_SQL}
RETURNING id, assignee_id, subject
"""


@action
def notify_overdue_tickets(now=None, *, acting_user) -> int:
    """The active company's open tickets that passed their due time: their assignee is told, once."""
    from activities.models import Kind
    from activities.notify import deliver

    tenant = current_tenant()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(_CLAIM_OVERDUE, {"now": now or timezone.now(), "tenant": tenant.pk})
            claimed = cursor.fetchall()
        if not claimed:
            return 0
        ids = sorted(row[0] for row in claimed)
        write_bulk_history(Ticket, ids, "~", "overdue notice")
        deliver(
            [(assignee, "ticket", pk, subject) for pk, assignee, subject in claimed if assignee], Kind.TICKET_OVERDUE
        )
        audit(
            AuditEvent.Action.UPDATE,
            object_type="ticket",
            count=len(ids),
            detail={"ids": ids[: records.IDS_IN_EVENT], "fields": ["overdue_notified_at"]},
        )
    return len(claimed)
