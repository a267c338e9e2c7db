"""Customers, contacts, interactions and tickets as the API shows and accepts them.

Field names are the models'. References (customer, contact, owner, assignee,
author) are ids, accepted only within the active tenant: a customer or contact
must be visible to the user, a person must be a member of the company.
"""

from django.utils.translation import gettext as _
from rest_framework import serializers

from crm.api.serializers import MemberField, RecordSerializer, VisibleRecordField
from customers.actions import parent_choices
from customers.models import Contact, Customer, Interaction, Ticket

# Set by the server: the timestamps and the version every write adds one to (the ETag).
SERVER_SET = ("created_at", "updated_at", "version")


class ParentCustomerField(VisibleRecordField):
    """The customer a new record hangs off: one of customers.actions.parent_choices(user)."""

    def __init__(self, **kwargs):
        super().__init__(Customer, **kwargs)

    def get_queryset(self):
        return parent_choices(self.context["request"].user)


class CustomerSerializer(RecordSerializer):
    """A customer (a company or a person)."""

    owner = MemberField(
        required=False, allow_null=True, help_text="User id of the owner; the requesting user when omitted on create."
    )
    tags = serializers.ListField(
        child=serializers.CharField(max_length=50), required=False, max_length=100, help_text="At most 100 tags."
    )

    class Meta:
        model = Customer
        fields = (
            "id",
            "kind",
            "name",
            "email",
            "phone",
            "website",
            "industry",
            "address",
            "tier",
            "status",
            "owner",
            "tags",
            "notes",
            *SERVER_SET,
        )
        read_only_fields = ("id", *SERVER_SET)


class ContactSerializer(RecordSerializer):
    """A person at a customer."""

    customer = ParentCustomerField()

    class Meta:
        model = Contact
        fields = ("id", "customer", "name", "title", "email", "phone", *SERVER_SET)
        read_only_fields = ("id", *SERVER_SET)


class InteractionSerializer(RecordSerializer):
    """A call, email, meeting or note with a customer."""

    customer = ParentCustomerField()
    contact = VisibleRecordField(Contact, required=False, allow_null=True, help_text="A contact of the same customer.")
    author = serializers.PrimaryKeyRelatedField(
        read_only=True, help_text="User id of whoever logged it (the requesting user, on create)."
    )
    occurred_at = serializers.DateTimeField(required=False, help_text="Now when omitted on create.")

    class Meta:
        model = Interaction
        fields = ("id", "customer", "contact", "kind", "summary", "occurred_at", "author", *SERVER_SET)
        read_only_fields = ("id", *SERVER_SET)

    def validate(self, attrs):
        customer = attrs.get("customer", getattr(self.instance, "customer", None))
        contact = attrs["contact"] if "contact" in attrs else getattr(self.instance, "contact", None)
        if contact is not None and customer is not None and contact.customer_id != customer.pk:
            raise serializers.ValidationError({"contact": [_("This contact belongs to another customer.")]})
        return attrs


class TicketSerializer(RecordSerializer):
    """A service ticket of a customer."""

    customer = ParentCustomerField()
    assignee = MemberField(required=False, allow_null=True, help_text="User id of the assignee.")

    class Meta:
        model = Ticket
        fields = (
            "id",
            "customer",
            "subject",
            "description",
            "status",
            "priority",
            "assignee",
            "due_at",
            "resolved_at",
            "first_response_at",
            *SERVER_SET,
        )
        read_only_fields = ("id", "resolved_at", "first_response_at", *SERVER_SET)
        extra_kwargs = {
            "resolved_at": {"help_text": "Set when the status becomes resolved or closed."},
            "first_response_at": {"help_text": "Set by the first reply to the customer (/api/v1/ticket-messages/)."},
        }
