"""A ticket's conversation over the API: /api/v1/ticket-messages/?ticket=<id> (docs/tickets.md).

Whoever can see the ticket reads its messages; the author is always the requesting
user (never a field of the input). Writes go through customers.actions.
"""

import django_filters
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers

from crm.api.filters import ApiFilterSet, DateTimeFilter, IdFilter
from crm.api.serializers import RecordSerializer, VisibleRecordField
from crm.api.viewsets import RecordViewSet
from customers import conversation_actions
from customers.models import Ticket, TicketMessage

TAGS = ["ticket messages"]


class TicketMessageSerializer(RecordSerializer):
    """A reply to the customer, an internal note, or a customer's reply logged by an agent."""

    ticket = VisibleRecordField(Ticket, help_text="The ticket the message belongs to.")
    author = serializers.PrimaryKeyRelatedField(read_only=True, help_text="User id of who wrote or logged it.")

    class Meta:
        model = TicketMessage
        fields = ("id", "ticket", "kind", "body", "author", "created_at", "updated_at", "version")
        read_only_fields = ("id", "author", "created_at", "updated_at", "version")
        extra_kwargs = {
            "kind": {"help_text": "reply (to the customer), note (internal) or customer (a reply logged by an agent)."}
        }

    def to_internal_value(self, data):
        if isinstance(data, dict) and "author" in data:
            raise serializers.ValidationError({"author": [_("The author of a message is whoever adds it.")]})
        return super().to_internal_value(data)


class TicketMessageFilterSet(ApiFilterSet):
    ticket = IdFilter(field_name="ticket_id", help_text="The ticket's id: its thread.")
    customer = IdFilter(field_name="ticket__customer_id", help_text="The messages of this customer's tickets.")
    kind = django_filters.ChoiceFilter(choices=TicketMessage.Kind.choices)
    author = IdFilter(field_name="author_id", help_text="User id of the author.")
    created_after = DateTimeFilter(field_name="created_at", lookup_expr="gte")

    class Meta:
        model = TicketMessage
        fields = []


@extend_schema_view(
    list=extend_schema(summary="List ticket messages (?ticket=<id>: one ticket's thread)", tags=TAGS),
    create=extend_schema(summary="Add a reply, a note or a logged customer reply to a ticket", tags=TAGS),
    retrieve=extend_schema(summary="One ticket message", tags=TAGS),
    update=extend_schema(summary="Correct a message's text", tags=TAGS),
    partial_update=extend_schema(summary="Correct a message's text", tags=TAGS),
    destroy=extend_schema(tags=TAGS),
    bulk_delete=extend_schema(tags=TAGS),
    history=extend_schema(tags=TAGS),
    revert=extend_schema(tags=TAGS),
)
class TicketMessageViewSet(RecordViewSet):
    """Messages of the tickets the user can see, oldest first."""

    model = TicketMessage
    serializer_class = TicketMessageSerializer
    list_from_columns = True  # crm.api.listplan
    filterset_class = TicketMessageFilterSet
    search_fields = ("body",)
    ordering_fields = ("created_at", "updated_at", "kind")

    def create_record(self, values):
        ticket = values.pop("ticket")
        return conversation_actions.add_ticket_message(
            ticket, values.pop("kind", TicketMessage.Kind.REPLY), values.pop("body"), acting_user=self.request.user
        )

    def update_record(self, record, values):
        return conversation_actions.update_ticket_message(record, acting_user=self.request.user, **values)
