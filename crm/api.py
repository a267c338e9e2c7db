"""API v1 root pieces that belong to the kernel (the resources live in each app's api/)."""

from rest_framework.decorators import api_view
from rest_framework.response import Response

from crm.tenancy.context import get_context


@api_view(["GET"])
def whoami(request):
    """The authenticated user and the tenant the request acts in."""
    context = get_context()
    return Response(
        {
            "username": request.user.get_username(),
            "tenant": context.tenant.slug if context.tenant else None,
            "role": context.membership.role if context.membership else None,
        }
    )
