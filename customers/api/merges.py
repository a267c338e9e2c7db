"""Duplicates and merging over the API: GET /api/v1/customers/duplicates/?name=&email=&phone=
(the check at entry, before saving; contacts: with `customer`), POST /api/v1/customers/{id}/merge/
(and /contacts/{id}/merge/), and POST .../{id}/merges/{merge id}/undo/.

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
from crm.tenancy.context import current_tenant
from customers import actions, duplicates, merging
from customers.actions import CUSTOMER_KEYS_KEPT_ELSEWHERE, parent_choices
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


class DuplicateQuerySerializer(serializers.Serializer):
    name = serializers.CharField(required=False, allow_blank=True, max_length=200)
    email = serializers.CharField(required=False, allow_blank=True, max_length=254)
    phone = serializers.CharField(required=False, allow_blank=True, max_length=50)
    customer = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1, help_text="Contacts: theirs.")
    exclude = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=2**63 - 1,
        help_text="The record being edited (its unchanged keys are not checked).",
    )


class DuplicateMatchSerializer(serializers.Serializer):
    key = serializers.ChoiceField(choices=duplicates.KINDS)
    rule = serializers.ChoiceField(choices=["warn", "block"], help_text="block: saving is refused.")
    visible = serializers.BooleanField()
    id = serializers.IntegerField(allow_null=True, help_text="Null when the caller may not see the record.")
    name = serializers.CharField(allow_null=True)
    owner = serializers.CharField()
    message = serializers.CharField()


class MergeEndpoints:
    """Mixed into the customers' and contacts' RecordViewSets."""

    @extend_schema(
        summary="Records that a new or edited one would duplicate",
        parameters=[DuplicateQuerySerializer],
        responses={200: DuplicateMatchSerializer(many=True)},
    )
    @action(
        detail=False,
        methods=["get"],
        url_path="duplicates",
        url_name="duplicates",
        pagination_class=None,  # a short list (a few per key), not a page
        filter_backends=[],
    )
    def duplicates(self, request, *args, **kwargs):
        query = DuplicateQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        record = None
        if data.get("exclude"):
            record = self.get_queryset().filter(pk=data["exclude"]).first()
            if record is None:
                raise self.not_found(data["exclude"])
        customer = None
        contact = self.model._meta.model_name == "contact"
        if contact:
            customer_id = data.get("customer") or (record.customer_id if record else None)
            customer = parent_choices(request.user).filter(pk=customer_id).first() if customer_id else None
            if customer is None:
                raise NotFound(_("No customer with id %(id)s.") % {"id": customer_id or "-"})
        values = {kind: data[kind] for kind in duplicates.KINDS if kind in data}
        matches = duplicates.check(self.model, values, user=request.user, record=record, customer=customer)
        policy = duplicates.policy(current_tenant())
        if not contact:
            policy.update(dict.fromkeys(CUSTOMER_KEYS_KEPT_ELSEWHERE, "block"))
        rows = [
            {
                "key": match.kind,
                "rule": policy[match.kind],
                "visible": match.visible,
                "id": match.record.pk if match.visible else None,
                "name": str(match.record) if match.visible else None,
                "owner": match.owner,
                "message": match.describe(),
            }
            for match in matches
        ]
        return Response(DuplicateMatchSerializer(rows, many=True).data)

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
