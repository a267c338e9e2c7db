"""The shares of a customer over the API: GET/POST /api/v1/customers/{id}/shares/, DELETE .../shares/{user}/.

Thin over customers.actions.share_customer / unshare_customer (owner, managers and
admins; members only; audited SHARE / UNSHARE). The customer is read through the
restricting queryset, so one the caller cannot see is a 404.
"""

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from crm.api.serializers import MemberField
from crm.tenancy.members import display_name
from customers import actions
from customers.models import CustomerShare

TAGS = ["customers"]


class ShareSerializer(serializers.Serializer):
    user = MemberField(help_text="The member the customer is shared with (a user id).")
    name = serializers.CharField(read_only=True, help_text="Their full name, else their username.")


def share_rows(customer) -> list[dict]:
    shares = CustomerShare.objects.filter(customer=customer).select_related("user").order_by("user__username")
    return [{"user": share.user_id, "name": display_name(share.user)} for share in shares]


class ShareEndpoints:
    """Mixed into the customers' RecordViewSet."""

    @extend_schema(
        methods=["GET"], summary="Who a customer is shared with", responses={200: ShareSerializer(many=True)}, tags=TAGS
    )
    @extend_schema(
        methods=["POST"],
        summary="Share a customer with a member (owner, managers and admins)",
        request=ShareSerializer,
        responses={201: ShareSerializer},
        tags=TAGS,
    )
    @action(detail=True, methods=["get", "post"], url_path="shares", url_name="shares")
    def shares(self, request, *args, **kwargs):
        customer = self.get_object()
        if request.method == "GET":
            return Response(share_rows(customer))
        body = ShareSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        user = body.validated_data["user"]
        actions.share_customer(customer, user, acting_user=request.user)
        return Response({"user": user.pk, "name": display_name(user)}, status=status.HTTP_201_CREATED)

    @extend_schema(summary="End a share of a customer", request=None, responses={204: None}, tags=TAGS)
    @action(detail=True, methods=["delete"], url_path=r"shares/(?P<user_id>[0-9]{1,19})", url_name="share")
    def end_share(self, request, *args, user_id=None, **kwargs):
        customer = self.get_object()
        if not CustomerShare.objects.filter(customer=customer, user_id=int(user_id)).exists():
            raise NotFound(_("This customer is not shared with user %(id)s.") % {"id": int(user_id)})
        actions.unshare_customer(customer, get_user_model().objects.get(pk=user_id), acting_user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
