"""API v1 root pieces that belong to the kernel (the resources live in each app's api/)."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from crm.api.filters import reject_nul_bytes
from crm.tenancy.context import get_context


@extend_schema(
    summary="Who the request acts as",
    tags=["auth"],
    responses=inline_serializer(
        "WhoAmI",
        {
            "username": serializers.CharField(),
            "tenant": serializers.CharField(allow_null=True, help_text="Slug of the company the request acts in."),
            "role": serializers.CharField(allow_null=True),
        },
    ),
)
@api_view(["GET"])
@permission_classes([IsAuthenticated])
def whoami(request):
    """The authenticated user and the tenant the request acts in."""
    reject_nul_bytes(request)
    context = get_context()
    return Response(
        {
            "username": request.user.get_username(),
            "tenant": context.tenant.slug if context.tenant else None,
            "role": context.membership.role if context.membership else None,
        }
    )
