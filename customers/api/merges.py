"""Merging over the API: POST /api/v1/customers/{id}/merge/ (and /contacts/{id}/merge/), and
POST .../{id}/merges/{merge id}/undo/.

The record in the URL survives; `merge` lists the ids merged into it, `fields` says, field by
field, whose value wins ({"email": 12}). An id the caller cannot see, of another company or
of no record at all is the same 404. Thin over customers.actions.merge_records / undo_merge.
"""

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from crm.api.errors import Conflict
from customers import actions, merging
from customers.merges import Merge


class MergeRequestSerializer(serializers.Serializer):
    merge = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        min_length=1,
        max_length=merging.MAX_MERGED,
        help_text="Ids of the records merged into this one (they go to the recycle bin as one batch).",
    )
    fields = serializers.DictField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        required=False,
        default=dict,
        help_text='Field -> id of the record whose value the survivor keeps, e.g. {"email": 12}.',
    )


class MergeSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The merge (to undo it).")
    survivor = serializers.IntegerField(source="survivor_id")
    merged = serializers.ListField(child=serializers.IntegerField(), source="merged_ids")
    fields = serializers.DictField(child=serializers.IntegerField(), source="choices")
    moved = serializers.IntegerField(source="moved_count", help_text="Related records moved to the survivor.")
    batch = serializers.UUIDField(help_text="The recycle-bin batch of the merged records.")
    undone_at = serializers.DateTimeField(allow_null=True)


class MergeEndpoints:
    """Mixed into the customers' and contacts' RecordViewSets."""

    @extend_schema(
        summary="Merge records into this one", request=MergeRequestSerializer, responses={201: MergeSerializer}
    )
    @action(detail=True, methods=["post"], url_path="merge", url_name="merge")
    def merge(self, request, *args, **kwargs):
        survivor = self.get_object()
        body = MergeRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        ids = list(dict.fromkeys(body.validated_data["merge"]))
        found = self.model.objects.for_user(request.user).filter(pk__in=ids).in_bulk()
        missing = [pk for pk in ids if pk not in found]
        if missing:
            raise self.not_found(missing[0])  # as for an id of no record at all
        merge = actions.merge_records(
            survivor, [found[pk] for pk in ids], choices=body.validated_data["fields"], acting_user=request.user
        )
        return Response(MergeSerializer(merge).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Undo a merge into this record", request=None, responses={200: MergeSerializer})
    @action(detail=True, methods=["post"], url_path=r"merges/(?P<merge_id>[0-9]{1,18})/undo", url_name="merge-undo")
    def undo_merge(self, request, *args, merge_id=None, **kwargs):
        survivor = self.get_object()
        merge = Merge.objects.filter(
            pk=int(merge_id), record_type=self.model._meta.model_name, survivor_id=survivor.pk
        ).first()
        if merge is None:
            raise NotFound(_("No merge #%(id)s into this record.") % {"id": int(merge_id)})
        try:
            actions.undo_merge(merge, acting_user=request.user)
        except merging.MergeConflict as conflict:
            raise Conflict(str(conflict), conflict.code, fields={"problems": conflict.problems}) from conflict
        merge.refresh_from_db()
        return Response(MergeSerializer(merge).data)
