"""The API's answer to a delete or purge that waits for approval: 202 {"approval": id, "status": "pending"}."""

from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response

PENDING_RESPONSE = OpenApiResponse(
    inline_serializer(
        "ApprovalPending",
        {"approval": serializers.IntegerField(), "status": serializers.ChoiceField(choices=["pending"])},
    ),
    description="Nothing was deleted yet: a second person must approve (GET /api/v1/approvals/{approval}/).",
)


def approval_accepted(approval) -> Response:
    return Response({"approval": approval.pk, "status": approval.status}, status=status.HTTP_202_ACCEPTED)
