"""Serializer pieces shared by every resource: tenant-limited references, strict input, history rows."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import models
from django.utils.translation import gettext as _
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from crm.api.filters import MAX_PK
from crm.api.listplan import Timestamp
from crm.tenancy.members import tenant_members

MAX_BULK = 1000


class StrictPrimaryKeyField(serializers.PrimaryKeyRelatedField):
    """An id: a whole number (1.5, "1e3" and true are refused, not rounded)."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("incorrect_type", data_type=type(data).__name__)
        if isinstance(data, str) and not (data.isascii() and data.isdigit()):
            self.fail("incorrect_type", data_type="str")
        if not 0 < int(data) <= MAX_PK:
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(int(data))


class MemberField(StrictPrimaryKeyField):
    """A user id; the user must be a member of the active tenant."""

    default_error_messages = {"does_not_exist": "No member of this company has the id {pk_value}."}

    def __init__(self, **kwargs):
        # A queryset for the schema and DRF's checks; get_queryset() narrows it per request.
        kwargs.setdefault("queryset", get_user_model().objects.all())
        super().__init__(**kwargs)

    def get_queryset(self):
        return tenant_members()


class VisibleRecordField(StrictPrimaryKeyField):
    """The id of a record of `model` that the requesting user can see (alive, this tenant)."""

    def __init__(self, model, **kwargs):
        self.model = model
        kwargs.setdefault("queryset", model.all_objects.all())
        kwargs.setdefault(
            "error_messages",
            {
                "does_not_exist": _("No %(type)s with the id {pk_value} is visible to you.")
                % {"type": model._meta.model_name}
            },
        )
        super().__init__(**kwargs)

    def get_queryset(self):
        return self.model.objects.for_user(self.context["request"].user, "view")


class RecordSerializer(serializers.ModelSerializer):
    # The models' date-times as DRF shows them by default; list pages show them a column at a time.
    serializer_field_mapping = {**serializers.ModelSerializer.serializer_field_mapping, models.DateTimeField: Timestamp}

    def to_internal_value(self, data):
        # Refuses body fields it does not know: a typo must not be silently ignored.
        if isinstance(data, dict):
            unknown = sorted(str(key) for key in data if key not in self.fields)
            if unknown:
                allowed = ", ".join(name for name, field in self.fields.items() if not field.read_only)
                raise ValidationError(
                    {
                        name[:100]: [_("Unknown field. Writable fields: %(fields)s.") % {"fields": allowed}]
                        for name in unknown[:10]
                    }
                )
        return super().to_internal_value(data)


class BulkDeleteSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_PK),
        min_length=1,
        max_length=MAX_BULK,
        help_text=f"The ids to delete (1 to {MAX_BULK}); all of them or none are deleted.",
    )
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=1000,
        help_text="Why (read by the approver when the company requires approval for this many records).",
    )
    versions = serializers.DictField(
        child=serializers.IntegerField(min_value=1, max_value=2**31 - 1),
        required=False,
        help_text='Optional {"<id>": <version>}: the versions you saw. If any of them changed since, '
        "nothing is deleted (412, the changed ids in the error's `changed`).",
    )

    def validate_versions(self, versions):
        if len(versions) > MAX_BULK or not all(key.isascii() and key.isdigit() and len(key) < 19 for key in versions):
            raise ValidationError(_("Keys must be record ids."))
        return {int(key): version for key, version in versions.items()}


class BatchResultSerializer(serializers.Serializer):
    batch = serializers.UUIDField(
        allow_null=True, help_text="The deletion batch: POST it to /api/v1/recycle-bin/restore/ to undo."
    )
    counts = serializers.DictField(child=serializers.IntegerField(), help_text="Records moved, per type.")
    total = serializers.IntegerField()


class CountsSerializer(serializers.Serializer):
    counts = serializers.DictField(child=serializers.IntegerField(), help_text="Records affected, per type.")
    total = serializers.IntegerField()


class ChangeSerializer(serializers.Serializer):
    field = serializers.CharField()
    old = serializers.JSONField(allow_null=True)
    new = serializers.JSONField(allow_null=True)


class VersionSerializer(serializers.Serializer):
    history_id = serializers.IntegerField()
    history_date = serializers.DateTimeField()
    history_type = serializers.ChoiceField(
        choices=[("+", "created"), ("~", "changed"), ("-", "purged")],
        help_text="+ created, ~ changed (including moved to or back from the recycle bin), - purged",
    )
    user = serializers.CharField(allow_null=True, help_text="Username of who made the change (null: a process).")
    reason = serializers.CharField(allow_null=True)
    changes = ChangeSerializer(many=True, help_text="What this version changed compared with the one before.")
