"""The company's people over the API: `GET/POST /api/v1/members/`, `GET/PATCH/DELETE /api/v1/members/{id}/`.

Admins read and change; managers read; other roles get 403. Another company's
members are a 404. Every change goes through the same actions as the People page.
"""

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response

from crm.api.permissions import active_membership
from crm.api.viewsets import ID_PARAMETER, ID_PATTERN, ApiViewMixin
from crm.tenancy import actions, people_actions
from crm.tenancy.models import Invitation, Membership
from crm.tenancy.people_views import people_of
from crm.tenancy.roles import TENANT_ADMIN_ROLES, Role

TAGS = ["Members"]
READER_ROLES = {Role.ADMIN, Role.MANAGER}


class MemberSerializer(serializers.ModelSerializer):
    """A member of the company: the person, their role, whether the membership is active."""

    user = serializers.IntegerField(source="user_id", read_only=True)
    username = serializers.CharField(source="user.username", read_only=True)
    email = serializers.CharField(source="user.email", read_only=True, help_text="Empty when they have none.")
    name = serializers.CharField(source="user.get_full_name", read_only=True)
    active = serializers.BooleanField(source="is_active", read_only=True)
    last_login = serializers.DateTimeField(source="user.last_login", read_only=True, allow_null=True)
    two_factor = serializers.BooleanField(read_only=True, help_text="Two-factor sign-in is on.")

    class Meta:
        model = Membership
        fields = ("id", "user", "username", "email", "name", "role", "active", "last_login", "two_factor", "created_at")
        read_only_fields = fields


class NewMemberSerializer(MemberSerializer):
    temporary_password = serializers.CharField(
        read_only=True, help_text="Shown in this response only; the person must change it at first sign-in."
    )

    class Meta(MemberSerializer.Meta):
        fields = (*MemberSerializer.Meta.fields, "temporary_password")
        read_only_fields = fields


class InvitationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Invitation
        fields = ("id", "email", "role", "created_at", "expires_at")
        read_only_fields = fields


class MemberCreateSerializer(serializers.Serializer):
    """With `username`: a new user with a temporary password (in the response). Without: an emailed invitation."""

    role = serializers.ChoiceField(choices=Role.choices)
    email = serializers.EmailField(required=False, allow_blank=True)
    username = serializers.CharField(required=False, max_length=150)

    def validate(self, data):
        if not data.get("username") and not data.get("email"):
            raise serializers.ValidationError({"email": _("Give an email to invite, or a username to create.")})
        return data


class MemberChangeSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices, required=False)
    active = serializers.BooleanField(required=False, help_text="false deactivates, true reactivates.")


@extend_schema_view(
    list=extend_schema(summary="The company's members (admins and managers)", tags=TAGS),
    retrieve=extend_schema(summary="One member", tags=TAGS, parameters=[ID_PARAMETER]),
    create=extend_schema(
        summary="Invite by email, or create a user with a temporary password (admins)",
        tags=TAGS,
        request=MemberCreateSerializer,
        responses={201: NewMemberSerializer, 202: InvitationSerializer},
    ),
    partial_update=extend_schema(
        summary="Change a member's role, deactivate or reactivate (admins)",
        tags=TAGS,
        parameters=[ID_PARAMETER],
        request=MemberChangeSerializer,
    ),
    destroy=extend_schema(summary="Remove a member from the company (admins)", tags=TAGS, parameters=[ID_PARAMETER]),
)
class MemberViewSet(
    ApiViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    queryset = Membership.objects.none()  # for the router and the schema; get_queryset() is what runs
    serializer_class = MemberSerializer
    lookup_value_regex = ID_PATTERN
    http_method_names = ["get", "post", "patch", "delete", "head"]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        membership = active_membership(request)
        if membership.role not in READER_ROLES:
            raise PermissionDenied(_("Only administrators and managers may see the company's people."))
        if request.method not in ("GET", "HEAD") and membership.role not in TENANT_ADMIN_ROLES:
            raise PermissionDenied(_("Only administrators may change the company's people."))

    def get_queryset(self):
        return people_of(active_membership(self.request).tenant_id)

    def get_object(self):
        membership = self.get_queryset().filter(pk=self.kwargs["pk"]).first()
        if membership is None:
            raise NotFound(_("No member with id %(id)s.") % {"id": self.kwargs["pk"]})
        return membership

    def _fresh(self, pk):
        return self.get_serializer(self.get_queryset().get(pk=pk)).data

    def create(self, request, *args, **kwargs):
        incoming = MemberCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data, tenant = incoming.validated_data, active_membership(request).tenant
        if data.get("username"):
            membership, password = people_actions.create_member_with_temporary_password(
                tenant, data["username"], role=data["role"], email=data.get("email", ""), acting_user=request.user
            )
            body = {**self._fresh(membership.pk), "temporary_password": password}
            return Response(body, status=status.HTTP_201_CREATED)
        invitation = people_actions.invite_member(
            tenant, data["email"], role=data["role"], base_url=request.build_absolute_uri("/"), acting_user=request.user
        )
        return Response(InvitationSerializer(invitation).data, status=status.HTTP_202_ACCEPTED)

    def partial_update(self, request, *args, **kwargs):
        membership = self.get_object()
        incoming = MemberChangeSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        # Reactivate before a role change and deactivate after it, as the admin does.
        if data.get("active") is True:
            membership = people_actions.reactivate_member(membership, acting_user=request.user)
        if "role" in data:
            membership = actions.set_member_role(membership, data["role"], acting_user=request.user)
        if data.get("active") is False:
            membership = people_actions.deactivate_member(membership, acting_user=request.user)
        return Response(self._fresh(membership.pk))

    def perform_destroy(self, instance):
        actions.remove_member(instance, acting_user=self.request.user)
