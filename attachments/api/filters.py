"""List filters of /api/v1/attachments/ (`?customer=3`, `?ticket=9`); unknown parameters are a 400."""

from attachments.models import Attachment
from crm.api.filters import ApiFilterSet, IdFilter


class AttachmentFilterSet(ApiFilterSet):
    customer = IdFilter(field_name="customer_id", help_text="Files of this customer and of its records.")
    contact = IdFilter(field_name="contact_id")
    opportunity = IdFilter(field_name="opportunity_id")
    ticket = IdFilter(field_name="ticket_id")

    class Meta:
        model = Attachment
        fields = []
