"""API tokens over the API: `GET/POST /api/v1/tokens/`, `GET/DELETE /api/v1/tokens/{id}/`.

Everyone sees and revokes their own tokens in the active company; its admins
see and revoke all of the company's. The key is in the creating response only.
"""

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from crm.api.viewsets import ID_PARAMETER, ID_PATTERN, ApiViewMixin
from crm.tenancy import actions
from crm.tenancy.context import get_context
from crm.tenancy.models import ApiToken

TAGS = ["API tokens"]


class ApiTokenSerializer(serializers.ModelSerializer):
    """An API token; `prefix` (the key's first characters) tells it apart, the key itself is never shown again."""

    username = serializers.CharField(source="user.username", read_only=True)
    active = serializers.SerializerMethodField(help_text="Neither revoked nor expired.")

    class Meta:
        model = ApiToken
        fields = (
            "id",
            "name",
            "scope",
            "expires_at",
            "prefix",
            "user",
            "username",
            "created_at",
            "last_used_at",
            "last_used_ip",
            "revoked_at",
            "active",
        )
        read_only_fields = ("id", "prefix", "user", "created_at", "last_used_at", "last_used_ip", "revoked_at")
        extra_kwargs = {"scope": {"help_text": "read: GET, HEAD and OPTIONS only; write: everything the role allows."}}

    def get_active(self, token) -> bool:
        return token.revoked_at is None and not token.expired


class NewApiTokenSerializer(ApiTokenSerializer):
    key = serializers.CharField(read_only=True, help_text="The secret key: shown in this response only.")

    class Meta(ApiTokenSerializer.Meta):
        fields = (*ApiTokenSerializer.Meta.fields, "key")


@extend_schema_view(
    list=extend_schema(summary="API tokens: one's own (admins: all of the company's)", tags=TAGS),
    create=extend_schema(summary="Create an API token for oneself", tags=TAGS, responses={201: NewApiTokenSerializer}),
    retrieve=extend_schema(summary="One API token", tags=TAGS, parameters=[ID_PARAMETER]),
    destroy=extend_schema(summary="Revoke an API token", tags=TAGS, parameters=[ID_PARAMETER]),
)
class ApiTokenViewSet(ApiViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = ApiToken.objects.none()  # for the router and the schema; get_queryset() is what runs
    serializer_class = ApiTokenSerializer
    lookup_value_regex = ID_PATTERN
    http_method_names = ["get", "post", "delete", "head"]

    def get_queryset(self):
        return ApiToken.objects.for_user(self.request.user, everyone=True).select_related("user")

    def get_object(self):
        token = self.get_queryset().filter(pk=self.kwargs["pk"]).first()
        if token is None:
            raise NotFound(_("No API token with id %(id)s.") % {"id": self.kwargs["pk"]})
        return token

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token = actions.create_api_token(
            get_context().tenant, request.user, acting_user=request.user, **serializer.validated_data
        )
        return Response(NewApiTokenSerializer(token).data, status=status.HTTP_201_CREATED)

    def destroy(self, request, *args, **kwargs):
        actions.revoke_api_token(self.get_object(), acting_user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
