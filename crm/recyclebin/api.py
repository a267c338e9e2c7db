"""The recycle bin over the API: list, look at, restore (one, many, a batch) and purge.

Thin over crm.recyclebin.actions, which checks who may do what (and audits refusals);
this module only parses input and shapes output. An item outside this
tenant's bin (another tenant's, alive, restored, purged, never existed) is a 404.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from crm.api.filters import MAX_PK, StrictQueryParameters
from crm.api.serializers import MAX_BULK, CountsSerializer
from crm.api.viewsets import FORMAT_PARAMETER, ApiViewMixin
from crm.approvals.gate import ApprovalRequested
from crm.approvals.responses import PENDING_RESPONSE, approval_accepted
from crm.exports.lists import api_export_request, bin_response
from crm.records.registry import record_models
from crm.recyclebin import actions, listing
from crm.recyclebin.actions import Item
from crm.tenancy.context import current_tenant

TYPE_NAMES = tuple(record_models())  # imported with the URLconf, after every app registered its types
TAGS = ["recycle bin"]
ITEM_PARAMETERS = [
    OpenApiParameter("type", str, OpenApiParameter.PATH, enum=TYPE_NAMES, description="The record type."),
    OpenApiParameter("id", OpenApiTypes.INT64, OpenApiParameter.PATH, description="The record's id."),
]


class UserRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()


class BinItemSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=TYPE_NAMES)
    id = serializers.IntegerField()
    label = serializers.CharField(help_text="The record's name (or subject, or summary), cut to 200 characters.")
    deleted_at = serializers.DateTimeField()
    deleted_by = UserRefSerializer(allow_null=True, help_text="Who deleted it (null: a process or a removed user).")
    batch = serializers.UUIDField(allow_null=True, help_text="The deletion it was part of (the unit of undo).")
    purge_after = serializers.DateTimeField(
        allow_null=True, help_text="When retention purges it for good (null while the company is on legal hold)."
    )


class BinFilterSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=TYPE_NAMES, required=False, help_text="Only records of this type.")
    deleted_by = serializers.IntegerField(
        min_value=1, max_value=MAX_PK, required=False, help_text="User id of who deleted them."
    )
    batch = serializers.UUIDField(required=False, help_text="Only the records of this deletion.")
    deleted_after = serializers.DateTimeField(required=False, help_text="Deleted at or after this time.")
    deleted_before = serializers.DateTimeField(required=False, help_text="Deleted before this time.")
    search = serializers.CharField(required=False, max_length=200, help_text="Words in the record's label.")


class ItemRefSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=TYPE_NAMES)
    id = serializers.IntegerField(min_value=1, max_value=MAX_PK)


class RestoreSerializer(serializers.Serializer):
    """Either a batch or a list of items."""

    batch = serializers.UUIDField(required=False, help_text="Restore exactly what this deletion moved to the bin.")
    items = ItemRefSerializer(
        many=True,
        required=False,
        min_length=1,
        max_length=MAX_BULK,
        help_text=f"Or these records (1 to {MAX_BULK}), each with the children deleted together with it.",
    )

    def validate(self, attrs):
        if ("batch" in attrs) == ("items" in attrs):
            raise serializers.ValidationError(_('Give either "batch" or "items", not both and not neither.'))
        return attrs


class RecycleBinViewSet(ApiViewMixin, viewsets.GenericViewSet):
    """Deleted records of the company: what you may restore, newest deletions first."""

    filter_backends = [StrictQueryParameters]
    extra_query_parameters = (*BinFilterSerializer().fields, "format")  # format: crm.exports
    serializer_class = BinItemSerializer

    def get_queryset(self):  # pragma: no cover - the bin is read through crm.recyclebin.listing.entries
        return None

    # -- reading ------------------------------------------------------------------------------
    @extend_schema(
        summary="What is in the recycle bin",
        description="Newest deletions first; only what you may restore.",
        parameters=[BinFilterSerializer, FORMAT_PARAMETER],
        responses={200: BinItemSerializer(many=True)},
        tags=TAGS,
        operation_id="recycle_bin_list",
    )
    def list(self, request, *args, **kwargs):
        self.filter_queryset(None)  # unknown parameters -> 400
        query = BinFilterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        wanted = query.validated_data
        rows = listing.entries(
            request.user,
            types=[wanted["type"]] if "type" in wanted else None,
            deleted_by=wanted.get("deleted_by"),
            since=wanted.get("deleted_after"),
            until=wanted.get("deleted_before"),
            search=wanted.get("search", ""),
            batch=wanted.get("batch"),
        )
        if wanted := api_export_request(request):  # ?format=csv|xlsx: every entry, as a file
            fmt, filters = wanted
            return bin_response(rows, fmt=fmt, filters=filters, acting_user=request.user)
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(BinItemSerializer(self.shape(page), many=True).data)

    @extend_schema(
        summary="One record in the recycle bin",
        parameters=ITEM_PARAMETERS,
        tags=TAGS,
        operation_id="recycle_bin_retrieve",
    )
    def retrieve(self, request, *args, type=None, id=None, **kwargs):
        rows = list(listing.entries(request.user, types=[type], record_id=int(id))[:1])
        if not rows:
            raise self.not_in_bin(type, id)
        return Response(BinItemSerializer(self.shape(rows)[0]).data)

    def shape(self, rows) -> list[dict]:
        """Entries -> API items, with every deleter's username in one query."""
        user_ids = {row["deleted_by_id"] for row in rows if row["deleted_by_id"]}
        names = dict(get_user_model().objects.filter(pk__in=user_ids).values_list("pk", "username")) if user_ids else {}
        tenant = current_tenant()
        return [
            {
                "type": row["type"],
                "id": row["id"],
                "label": row["label"],
                "deleted_at": row["deleted_at"],
                "deleted_by": {"id": row["deleted_by_id"], "username": names[row["deleted_by_id"]]}
                if row["deleted_by_id"] in names
                else None,
                "batch": row["deletion_batch"],
                "purge_after": actions.purge_after(tenant, row["deleted_at"]),
            }
            for row in rows
        ]

    @staticmethod
    def not_in_bin(type_name, pk):
        return NotFound(_("No %(type)s with id %(id)s in the recycle bin.") % {"type": type_name, "id": pk})

    # -- restoring --------------------------------------------------------------------------
    @extend_schema(
        summary="Restore one record (with the children deleted together with it)",
        description="409 when it cannot come back yet (its parent is in the bin: `error.parent` names it; "
        "or an alive record now holds one of its unique values).",
        parameters=ITEM_PARAMETERS,
        request=None,
        responses={200: CountsSerializer},
        tags=TAGS,
        operation_id="recycle_bin_restore",
    )
    def restore(self, request, *args, type=None, id=None, **kwargs):
        counts = actions.restore([Item(actions.model_for(type), int(id))], acting_user=request.user)
        return Response(CountsSerializer({"counts": counts, "total": sum(counts.values())}).data)

    @extend_schema(
        summary="Restore a whole deletion (batch) or a list of records",
        request=RestoreSerializer,
        responses={200: CountsSerializer},
        tags=TAGS,
        operation_id="recycle_bin_restore_many",
    )
    def restore_many(self, request, *args, **kwargs):
        body = RestoreSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        if "batch" in body.validated_data:
            counts = actions.restore_batch(body.validated_data["batch"], acting_user=request.user)
        else:
            items = list(
                dict.fromkeys(
                    Item(actions.model_for(item["type"]), item["id"]) for item in body.validated_data["items"]
                )
            )
            counts = actions.restore(items, acting_user=request.user)
        return Response(CountsSerializer({"counts": counts, "total": sum(counts.values())}).data)

    # -- purging ------------------------------------------------------------------------------
    @extend_schema(
        summary="Permanently delete a record in the recycle bin (and what hangs off it)",
        description="Needs the per-object purge permission (admins hold it; managers where granted): 403 "
        "otherwise, and always while the company is on legal hold. Cannot be undone. With the company's "
        'deletion approval on: 202 {"approval": id, "status": "pending"}, nothing purged yet.',
        parameters=ITEM_PARAMETERS,
        responses={200: CountsSerializer, 202: PENDING_RESPONSE},
        tags=TAGS,
        operation_id="recycle_bin_purge",
    )
    def purge(self, request, *args, type=None, id=None, **kwargs):
        reason = request.data.get("reason", "") if isinstance(request.data, dict) else ""
        try:
            counts = actions.purge(
                [Item(actions.model_for(type), int(id))], acting_user=request.user, reason=str(reason)
            )
        except ApprovalRequested as asked:
            return approval_accepted(asked.approval)
        return Response(CountsSerializer({"counts": counts, "total": sum(counts.values())}).data)
