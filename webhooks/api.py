"""Webhooks over the API, for a company's administrators: /api/v1/webhooks/ (crm.api.viewsets.RecordViewSet).

The secret is write-only: a create answers it once (generated for a JSON endpoint when none is given).
"""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers

from crm.api.serializers import RecordSerializer
from crm.api.viewsets import RecordViewSet
from webhooks import actions
from webhooks.models import EVENTS, Endpoint

TAGS = ["webhooks"]


class EndpointSerializer(RecordSerializer):
    """Where the company's events are posted, which events, and in which format."""

    events = serializers.ListField(
        child=serializers.ChoiceField(choices=EVENTS), min_length=1, help_text="The events to send."
    )
    secret = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=200,
        help_text="JSON: the HMAC key (generated when omitted, answered once); DingTalk: the robot's signing secret.",
    )

    class Meta:
        model = Endpoint
        fields = (
            "id",
            "name",
            "url",
            "preset",
            "events",
            "language",
            "active",
            "secret",
            "failing_since",
            "created_at",
            "updated_at",
        )
        read_only_fields = ("id", "failing_since", "created_at", "updated_at")


@extend_schema_view(
    list=extend_schema(summary="List webhooks", tags=TAGS),
    create=extend_schema(summary="Add a webhook (the answer holds its secret, once)", tags=TAGS),
    retrieve=extend_schema(summary="One webhook", tags=TAGS),
    update=extend_schema(summary="Replace a webhook", tags=TAGS),
    partial_update=extend_schema(summary="Change some fields of a webhook (active: false disables it)", tags=TAGS),
    destroy=extend_schema(tags=TAGS),
    bulk_delete=extend_schema(tags=TAGS),
    history=extend_schema(tags=TAGS),
    revert=extend_schema(tags=TAGS),
)
class EndpointViewSet(RecordViewSet):
    model = Endpoint
    serializer_class = EndpointSerializer
    search_fields = ("name",)
    ordering_fields = ("name", "created_at", "updated_at")

    def create(self, request, *args, **kwargs):
        response = super().create(request, *args, **kwargs)
        response.data["secret"] = self.shown_secret
        return response

    def create_record(self, values):
        endpoint, self.shown_secret = actions.create_endpoint(acting_user=self.request.user, **values)
        return endpoint

    def update_record(self, record, values):
        return actions.update_endpoint(record, acting_user=self.request.user, **values)
