"""History over the API: a record's versions with what each changed, and revert (as a 409 when refused).

Mixed into crm.api.viewsets.RecordViewSet, so every resource has
/<resource>/<id>/history/ and /<resource>/<id>/history/<history_id>/revert/.
The rules of revert are crm.history.actions'; this module only translates.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from crm.api.errors import Conflict, django_validation_fields, validation_message
from crm.api.filters import ID_PATTERN, StrictQueryParameters
from crm.api.serializers import VersionSerializer
from crm.history import actions
from crm.history.versions import version_of


class HistoryEndpoints:
    # -- history --------------------------------------------------------------------------
    @extend_schema(
        summary="Versions of the record, newest first, each with what it changed",
        responses={200: VersionSerializer(many=True)},
        filters=False,
    )
    @action(
        detail=True,
        methods=["get"],
        filter_backends=[StrictQueryParameters],
        filterset_class=None,
        search_fields=(),
        ordering_fields=(),
    )
    def history(self, request, *args, **kwargs):
        record = self.get_object()
        versions = record.history.select_related("history_user").order_by("-history_date", "-history_id")
        page = self.paginate_queryset(self.filter_queryset(versions))
        before = None
        if page:
            last = page[-1]
            before = (
                record.history.filter(
                    Q(history_date__lt=last.history_date)
                    | Q(history_date=last.history_date, history_id__lt=last.history_id)
                )
                .order_by("-history_date", "-history_id")
                .first()
            )
        rows = []
        for index, version in enumerate(page):
            previous = page[index + 1] if index + 1 < len(page) else before
            rows.append(
                {
                    "history_id": version.history_id,
                    "history_date": version.history_date,
                    "history_type": version.history_type,
                    "user": version.history_user.get_username() if version.history_user_id else None,
                    "reason": version.history_change_reason,
                    "changes": _changes(version, previous),
                }
            )
        return self.get_paginated_response(VersionSerializer(rows, many=True).data)

    @extend_schema(
        summary="Put a version's values back (as a new, audited change)",
        description="409 when the old values would break a rule today (an email taken since, ...).",
        request=None,
        parameters=[
            OpenApiParameter("history_id", OpenApiTypes.INT64, OpenApiParameter.PATH, description="A version's id.")
        ],
    )
    @action(detail=True, methods=["post"], url_path=rf"history/(?P<history_id>{ID_PATTERN})/revert")
    def revert(self, request, *args, history_id=None, **kwargs):
        record = self.get_object()
        version = version_of(record, int(history_id))
        if version is None:
            raise NotFound(_("This %(type)s has no version %(id)s.") % {"type": self.type_name(), "id": history_id})
        try:
            record = actions.revert(record, version, acting_user=request.user)
        except ValidationError as error:
            fields = django_validation_fields(error)
            raise Conflict(
                _("This version cannot be put back: %(reason)s") % {"reason": validation_message(fields)},
                "revert_conflict",
                fields=fields,
            ) from error
        return Response(self.get_serializer(record).data)


def _changes(version, previous) -> list[dict]:
    if previous is None:
        return []
    delta = version.diff_against(previous, excluded_fields=["updated_at", "version"])
    return [{"field": change.field, "old": change.old, "new": change.new} for change in delta.changes]
