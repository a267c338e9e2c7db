"""Serializer pieces shared by every resource: tenant-limited references, strict input, history rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache, partial

from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import ISO_8601, serializers
from rest_framework import fields as drf_fields
from rest_framework.exceptions import ValidationError
from rest_framework.settings import api_settings

from crm.api.filters import MAX_PK
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
    # Refuses body fields it does not know: a typo must not be silently ignored.

    def to_internal_value(self, data):
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


# -- list pages ----------------------------------------------------------------------------
#
# DRF builds a serializer's fields anew for every request and walks them field by
# field for every row: about 2 ms for a 50-row page, more than the page's query.
# A list page therefore reads only the columns it shows (values_list, no model
# instances) and turns each row into a dict with a plan built once per serializer
# class from the serializer's own fields, so the two cannot disagree. Only fields
# whose representation needs no request or instance take part; a serializer with
# any other field (a method field, a nested serializer, a hyperlink) has no plan
# and its lists go through DRF as usual.
#
# Most columns come from the database already as their fields show them (a str
# for a CharField, an int for an IntegerField): those pass through untouched.
# Date-times stay datetime objects in the page's time zone; the JSON renderer
# writes them exactly as DRF's DateTimeField would (ISO 8601, "Z" for UTC).

CONTEXT_FREE_FIELDS = (
    drf_fields.BooleanField,
    drf_fields.CharField,
    drf_fields.ChoiceField,
    drf_fields.DateField,
    drf_fields.DateTimeField,
    drf_fields.DecimalField,
    drf_fields.FloatField,
    drf_fields.IntegerField,
    drf_fields.JSONField,
    drf_fields.UUIDField,
)

# DRF field -> the model fields (internal types) whose database values it shows unchanged.
TEXT_TYPES = {"CharField", "TextField", "EmailField", "URLField", "SlugField"}
INTEGER_TYPES = {
    "AutoField",
    "BigAutoField",
    "SmallAutoField",
    "IntegerField",
    "BigIntegerField",
    "SmallIntegerField",
    "PositiveIntegerField",
    "PositiveBigIntegerField",
    "PositiveSmallIntegerField",
}
UNCHANGED = (
    (drf_fields.CharField, TEXT_TYPES),  # str(value)
    (drf_fields.ChoiceField, TEXT_TYPES | INTEGER_TYPES),  # the choice equal to the value, or the value
    (drf_fields.IntegerField, INTEGER_TYPES),  # int(value)
    (drf_fields.BooleanField, {"BooleanField"}),
)
IN_PAGE_ZONE = "in-page-zone"  # in ListPlan.represent: a date-time, moved to the page's time zone


@dataclass(frozen=True)
class ListPlan:
    names: tuple[str, ...]
    columns: tuple[str, ...]  # model attnames, for values_list()
    represent: tuple  # per column: None (as it is), IN_PAGE_ZONE, or the field's to_representation

    def rows(self, tuples) -> list[dict]:
        zone = timezone.get_current_timezone()
        steps = tuple(
            (name, i, partial(datetime.astimezone, tz=zone) if show is IN_PAGE_ZONE else show)
            for i, (name, show) in enumerate(zip(self.names, self.represent, strict=True))
            if show is not None and not (show is IN_PAGE_ZONE and _is_utc(zone))
        )
        rows = [dict(zip(self.names, row, strict=True)) for row in tuples]
        for name, i, show in steps:
            for row, values in zip(rows, tuples, strict=True):
                if (value := values[i]) is not None:
                    row[name] = show(value)
        return rows


def _is_utc(zone) -> bool:
    # The database's date-times are UTC already (Django's connections use UTC).
    return zone is UTC or getattr(zone, "key", None) in ("UTC", "Etc/UTC")


def _is_iso_datetime(field) -> bool:
    return (
        type(field) is drf_fields.DateTimeField
        and not hasattr(field, "timezone")
        and getattr(field, "format", api_settings.DATETIME_FORMAT).lower() == ISO_8601
    )


def _shows_unchanged(field, model_field) -> bool:
    if isinstance(field, drf_fields.ListField):
        base = getattr(model_field, "base_field", None)
        return base is not None and _shows_unchanged(field.child, base)
    if isinstance(field, drf_fields.JSONField):
        return not field.binary
    internal = model_field.get_internal_type()
    if isinstance(field, drf_fields.BigIntegerField):
        coerced = getattr(field, "coerce_to_string", api_settings.COERCE_BIGINT_TO_STRING)
        return (
            not coerced
            and internal in INTEGER_TYPES
            and type(field).to_representation is drf_fields.BigIntegerField.to_representation
        )
    return any(
        isinstance(field, kind) and type(field).to_representation is kind.to_representation and internal in types
        for kind, types in UNCHANGED
    )


def _is_context_free(field) -> bool:
    if isinstance(field, drf_fields.ListField):
        return _is_context_free(field.child)
    return isinstance(field, CONTEXT_FREE_FIELDS) and not isinstance(field, drf_fields.HiddenField)


@cache
def list_plan(serializer_class) -> ListPlan | None:
    """How to show a page of `serializer_class` rows straight from values_list(), or None."""
    model = serializer_class.Meta.model
    names, columns, represent = [], [], []
    for field in serializer_class()._readable_fields:
        if len(field.source_attrs) != 1:
            return None
        try:
            model_field = model._meta.get_field(field.source)
        except FieldDoesNotExist:
            return None
        if not model_field.concrete:
            return None
        if isinstance(field, serializers.PrimaryKeyRelatedField):
            if field.pk_field is not None or not field.use_pk_only_optimization():
                return None
            show = None  # the id, as stored in the row's foreign key column
        elif _is_iso_datetime(field):
            show = IN_PAGE_ZONE
        elif not _is_context_free(field):
            return None
        elif _shows_unchanged(field, model_field):
            show = None
        else:
            show = field.to_representation
        names.append(field.field_name)
        columns.append(model_field.attname)
        represent.append(show)
    return ListPlan(tuple(names), tuple(columns), tuple(represent))
