"""Saved views over the API: /api/v1/saved-views/ (see crm.api.viewsets.RecordViewSet), and
POST / DELETE /api/v1/saved-views/{id}/default/ to open its list with it, or stop."""

import django_filters
from django.db.models import Exists, OuterRef
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from crm.api.filters import ApiFilterSet
from crm.api.serializers import RecordSerializer
from crm.api.viewsets import RecordViewSet
from crm.savedviews import actions
from crm.savedviews.models import DefaultView, SavedView

TAGS = ["saved views"]


class SavedViewSerializer(RecordSerializer):
    """A list's filters and sort under a name: private, or shared with the company."""

    list_name = serializers.CharField(
        max_length=100, help_text='The list page\'s URL name: "customers:list", "tickets:list", ...'
    )
    is_default = serializers.SerializerMethodField(help_text="Whether the list opens with this view for you.")
    url = serializers.SerializerMethodField(help_text="The list, filtered and sorted as saved.")

    class Meta:
        model = SavedView
        fields = ("id", "list_name", "name", "query", "shared", "user", "is_default", "url", "created_at", "updated_at")
        read_only_fields = ("id", "user", "created_at", "updated_at")
        extra_kwargs = {
            "query": {
                "help_text": "The list's query string without page: filters and sort, e.g. status=active&sort=-name."
            },
            "user": {"help_text": "User id of whoever saved it (only they change or delete it)."},
        }

    def get_is_default(self, view) -> bool:
        return bool(getattr(view, "is_default", False))

    def get_url(self, view) -> str:
        return view.get_absolute_url()


class SavedViewFilterSet(ApiFilterSet):
    list_name = django_filters.CharFilter(help_text="Only the views of this list.")
    shared = django_filters.BooleanFilter()

    class Meta:
        model = SavedView
        fields = []


@extend_schema_view(
    list=extend_schema(summary="List your saved views and the company's shared ones", tags=TAGS),
    create=extend_schema(summary="Save a view of a list", tags=TAGS),
    retrieve=extend_schema(summary="One saved view", tags=TAGS),
    update=extend_schema(summary="Replace a saved view (yours only)", tags=TAGS),
    partial_update=extend_schema(summary="Rename, share or re-filter a saved view (yours only)", tags=TAGS),
    destroy=extend_schema(tags=TAGS),
    bulk_delete=extend_schema(tags=TAGS),
    history=extend_schema(tags=TAGS),
    revert=extend_schema(tags=TAGS),
)
class SavedViewViewSet(RecordViewSet):
    """Your saved views and those shared with the company; another person's private view is a 404."""

    model = SavedView
    serializer_class = SavedViewSerializer
    filterset_class = SavedViewFilterSet
    search_fields = ("name",)
    ordering_fields = ("name", "created_at", "updated_at")

    def get_queryset(self):
        user = self.request.user
        mine = DefaultView.objects.filter(user=user, list_name=OuterRef("list_name"), view=OuterRef("pk"))
        return super().get_queryset().annotate(is_default=Exists(mine))

    def create_record(self, values):
        return actions.save_view(acting_user=self.request.user, **values)

    def update_record(self, record, values):
        if values.get("list_name", record.list_name) == record.list_name:
            values.pop("list_name", None)
        return actions.update_view(record, acting_user=self.request.user, **values)

    @extend_schema(
        summary="Open the view's list with it (your default for that list); DELETE: stop",
        request=None,
        responses={200: SavedViewSerializer, 204: OpenApiResponse(description="The list opens unfiltered again.")},
        tags=TAGS,
    )
    @action(detail=True, methods=["post", "delete"], url_path="default", url_name="default")
    def default(self, request, *args, **kwargs):
        view = self.get_object()
        if request.method == "DELETE":
            actions.clear_default(view.list_name, acting_user=request.user)
            return Response(status=status.HTTP_204_NO_CONTENT)
        actions.make_default(view, acting_user=request.user)
        view.is_default = True
        return Response(self.get_serializer(view).data)
