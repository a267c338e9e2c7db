"""Approval requests over the API: GET /api/v1/approvals/, GET .../{id}/, POST .../{id}/approve/ and .../refuse/.

Thin over crm.approvals.actions (who may answer, never the requester; approving runs
the delete or purge). A request the caller may not see, or another company's, is a 404.
"""

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from crm.api.viewsets import ApiViewMixin
from crm.approvals import actions
from crm.approvals.listing import visible_to
from crm.approvals.models import ApprovalRequest
from crm.tenancy.acting import member_role

TAGS = ["approvals"]


class PersonSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()


class ApprovalSerializer(serializers.ModelSerializer):
    requested_by = PersonSerializer(allow_null=True)
    decided_by = PersonSerializer(allow_null=True)
    may_decide = serializers.SerializerMethodField(help_text="Whether you may approve or refuse it now.")

    class Meta:
        model = ApprovalRequest
        fields = (
            "id",
            "kind",
            "record_type",
            "count",
            "items",
            "reason",
            "status",
            "requested_by",
            "decided_by",
            "created_at",
            "expires_at",
            "decided_at",
            "result",
            "batch",
            "may_decide",
        )

    def get_may_decide(self, approval) -> bool:
        user = self.context["request"].user
        return approval.is_open and actions.may_decide(approval, user, self.context["role"])


class ApprovalFilter(serializers.Serializer):
    status = serializers.ChoiceField(choices=ApprovalRequest.Status.choices, required=False)


class ApprovalViewSet(ApiViewMixin, viewsets.GenericViewSet):
    """Deletions waiting for a second person, and how earlier ones ended; newest first."""

    serializer_class = ApprovalSerializer
    queryset = ApprovalRequest.all_objects.none()  # for the schema; get_queryset() is what runs

    def get_queryset(self):
        return visible_to(self.request.user)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "role": member_role(self.request.user)}

    def get_object(self):
        pk = self.kwargs["pk"]
        approval = self.get_queryset().filter(pk=pk).first()
        if approval is None:
            raise NotFound(_("No approval request with id %(id)s.") % {"id": pk})
        return approval

    @extend_schema(summary="Approval requests", parameters=[ApprovalFilter], tags=TAGS)
    def list(self, request, *args, **kwargs):
        query = ApprovalFilter(data=request.query_params)
        query.is_valid(raise_exception=True)
        rows = self.get_queryset()
        if "status" in query.validated_data:
            rows = rows.filter(status=query.validated_data["status"])
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(summary="One approval request", tags=TAGS)
    def retrieve(self, request, *args, **kwargs):
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(
        summary="Approve: the delete or purge is done now",
        description="Admins, and managers for bulk deletes; never the requester (403). 409 once answered or expired.",
        request=None,
        tags=TAGS,
    )
    def approve(self, request, *args, **kwargs):
        approval = actions.approve(self.get_object(), acting_user=request.user)
        return Response(self.get_serializer(approval).data)

    @extend_schema(summary="Refuse: nothing is deleted", request=None, tags=TAGS)
    def refuse(self, request, *args, **kwargs):
        approval = actions.refuse(self.get_object(), acting_user=request.user)
        return Response(self.get_serializer(approval).data)
