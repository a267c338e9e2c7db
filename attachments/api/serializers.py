"""Attachments as the API shows them (metadata; GET /api/v1/attachments/{id}/ is the file itself)."""

from rest_framework import serializers

from attachments.models import Attachment
from crm.api.serializers import RecordSerializer


class AttachmentSerializer(RecordSerializer):
    """A file on a customer, contact, opportunity or ticket."""

    download_url = serializers.SerializerMethodField(help_text="GET it for the file's bytes.")

    class Meta:
        model = Attachment
        fields = (
            "id",
            "customer",
            "contact",
            "opportunity",
            "ticket",
            "name",
            "content_type",
            "size",
            "sha256",
            "uploaded_by",
            "created_at",
            "download_url",
        )
        read_only_fields = fields

    def get_download_url(self, attachment) -> str:
        return f"/api/v1/attachments/{attachment.pk}/"
