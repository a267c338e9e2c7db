"""Opportunities as the API shows and accepts them (field names are the model's)."""

from crm.api.serializers import MemberField, RecordSerializer
from customers.api.serializers import ParentCustomerField
from sales.models import Opportunity


class OpportunitySerializer(RecordSerializer):
    """A deal in the pipeline, with a customer."""

    customer = ParentCustomerField()
    owner = MemberField(
        required=False, allow_null=True, help_text="User id of the owner; the requesting user when omitted on create."
    )

    class Meta:
        model = Opportunity
        fields = (
            "id",
            "customer",
            "name",
            "amount",
            "currency",
            "stage",
            "probability",
            "expected_close_date",
            "owner",
            "closed_at",
            "lost_reason_choice",
            "lost_reason",
            "created_at",
            "updated_at",
            "version",
        )
        read_only_fields = ("id", "closed_at", "created_at", "updated_at", "version")
        extra_kwargs = {
            "probability": {"help_text": "0 to 100; entering a stage suggests its usual probability when omitted."},
            "closed_at": {"help_text": "Set when the stage becomes won or lost."},
            "lost_reason_choice": {
                "help_text": "One of the company's lost reasons; this or lost_reason is required on lost."
            },
            "lost_reason": {"help_text": "Free text; this or lost_reason_choice is required when the stage is lost."},
        }
