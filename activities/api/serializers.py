"""Tasks as the API shows and accepts them (field names are the model's)."""

from django.utils.translation import gettext as _
from rest_framework import serializers

from activities.models import Task
from crm.api.serializers import MemberField, RecordSerializer, VisibleRecordField
from customers.models import Contact, Customer, Ticket
from sales.models import Opportunity


def _parent(model, noun):
    return VisibleRecordField(
        model, required=False, allow_null=True, help_text=f"The {noun} the task is about (one parent at most)."
    )


class TaskSerializer(RecordSerializer):
    """Something to do: standalone, or on one customer, contact, opportunity or ticket."""

    assignee = MemberField(
        required=False, allow_null=True, help_text="User id of the assignee; the requesting user when omitted."
    )
    customer = _parent(Customer, "customer")
    contact = _parent(Contact, "contact")
    opportunity = _parent(Opportunity, "opportunity")
    ticket = _parent(Ticket, "ticket")

    class Meta:
        model = Task
        fields = (
            "id",
            "title",
            "notes",
            "due_at",
            "remind_before",
            "assignee",
            "priority",
            "done",
            "completed_at",
            "customer",
            "contact",
            "opportunity",
            "ticket",
            "created_by",
            "created_at",
            "updated_at",
        )
        read_only_fields = ("id", "completed_at", "created_by", "created_at", "updated_at")
        extra_kwargs = {
            "remind_before": {"help_text": "Minutes before the due time for an early reminder: 15, 60 or 1440."},
            "completed_at": {"help_text": "Set when the task is marked done."},
        }

    def validate(self, attrs):
        merged = {
            name: attrs.get(name, getattr(self.instance, name, None))
            for name in ("customer", "contact", "opportunity", "ticket")
        }
        if sum(value is not None for value in merged.values()) > 1:
            raise serializers.ValidationError({"non_field_errors": [_("A task hangs off one record at most.")]})
        return attrs
