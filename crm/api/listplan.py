"""List pages from the columns: a page of rows shown by the serializer's own fields, without model instances.

DRF builds a ModelSerializer's fields anew for every request and turns each row
into a model instance before asking each field for its value: together several
times the cost of the page's query. A viewset that declares
`list_from_columns = True` (crm.api.viewsets.RecordViewSet) instead reads only
the columns its serializer shows (`values_list`) and passes each value to the
field's own `to_representation`, the fields having been built once, when the
viewset class was defined.

Only public, documented DRF and Django API is used: `serializer.fields`, the
field arguments `source`, `write_only` and `pk_field`, the documented override
points `to_representation()` and `get_attribute()`, `Meta.model` and
`Meta.list_serializer_class`; on the model side `_meta.get_field()`,
`Field.concrete`, `is_relation`, `many_to_one`, `one_to_one`, `attname`,
`descriptor_class` and `deconstruct()`.

A row then holds exactly what `serializer.data` holds for the same record,
because the plan is refused, when the viewset class is defined, for every
serializer where that could differ (see ListPlan.of): a `to_representation()`,
`get_attribute()`, `__init__()` or `get_fields()` of its own on the serializer
or a field, a method field, a nested serializer, a hyperlink, a value that
is not a column of the model. tests/api/test_serializers.py holds it to that
for the five resources; tests/api/test_resources.py compares each listed row
with what retrieve shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured
from django.db import models
from django.utils import timezone
from rest_framework import ISO_8601, fields, relations, serializers
from rest_framework.settings import api_settings

# DRF fields whose to_representation(value) depends on the value alone (date-times also
# on the active time zone, which is the request's whichever way the row is shown).
PLAIN_FIELDS = (
    fields.BooleanField,
    fields.CharField,
    fields.IntegerField,
    fields.BigIntegerField,
    fields.FloatField,
    fields.DecimalField,
    fields.DateTimeField,
    fields.DateField,
    fields.TimeField,
    fields.DurationField,
    fields.ChoiceField,
    fields.UUIDField,
    fields.JSONField,
    fields.ReadOnlyField,
)


class Timestamp(serializers.DateTimeField):
    """DRF's DateTimeField at its default output, ISO 8601 in the active time zone ("Z" for UTC),
    with a way to show a whole column of a list page at once (`represent_column`).

    DRF's `to_representation` (inherited, unchanged) looks the active time zone up
    again for every value, which is most of what showing a date-time costs: on a
    page of 50 rows with two date-times, a third of the list's time in Python. A
    column looks it up once. RecordSerializer maps the models' DateTimeFields to
    this field, so retrieve and list show the same field; tests/api/test_serializers.py
    holds `represent_column` to DRF's `to_representation` across time zones.
    Another format or a fixed zone: use serializers.DateTimeField.
    """

    def __init__(self, **kwargs):
        if "format" in kwargs or "default_timezone" in kwargs:
            raise TypeError("Timestamp writes ISO 8601 in the active time zone; use DateTimeField for anything else.")
        super().__init__(**kwargs)

    def represent_column(self, values) -> list:
        """[to_representation(value) for each value], None for None, with one time-zone look-up."""
        iso = api_settings.DATETIME_FORMAT
        if iso is None or iso.lower() != ISO_8601 or not settings.USE_TZ:
            return [None if value is None else self.to_representation(value) for value in values]
        zone = timezone.get_current_timezone()
        # In UTC, a UTC date-time (as the database gives them) converts to itself.
        utc = zone is UTC or getattr(zone, "key", None) in UTC_ZONE_NAMES
        shown = []
        for value in values:
            if value is None:
                shown.append(None)
                continue
            if utc and value.tzinfo is UTC:
                shown.append(value.isoformat()[:-6] + "Z")  # a UTC date-time's ISO text ends "+00:00"
                continue
            if isinstance(value, datetime) and value.utcoffset() is not None:  # aware: DRF only converts it
                text = value.astimezone(zone).isoformat()
            else:
                shown.append(self.to_representation(value))
                continue
            shown.append(text[:-6] + "Z" if text.endswith("+00:00") else text)
        return shown


UTC_ZONE_NAMES = ("UTC", "Etc/UTC")


class UnsupportedSerializer(ImproperlyConfigured):
    """The serializer shows something a row of columns cannot show exactly as it would."""


@dataclass(frozen=True)
class ListPlan:
    names: tuple[str, ...]  # the serializer's readable fields, in its order
    columns: tuple[str, ...]  # the model attnames behind them, for values_list()
    # Per column: None (an id, shown as stored), a function of one value (the field's
    # to_representation) or COLUMN with a function of all the column's values.
    shows: tuple

    @classmethod
    def of(cls, serializer_class) -> ListPlan:
        """The plan of `serializer_class`; raises UnsupportedSerializer where rows could differ from DRF's."""
        name = serializer_class.__name__
        if not issubclass(serializer_class, serializers.ModelSerializer):
            raise UnsupportedSerializer(f"{name} is not a ModelSerializer.")
        for method in ("__init__", "get_fields", "to_representation"):
            if getattr(serializer_class, method) is not getattr(serializers.ModelSerializer, method):
                raise UnsupportedSerializer(
                    f"{name} has its own {method}(): its output may differ from the columns' "
                    "(or depend on the request)."
                )
        if getattr(serializer_class.Meta, "list_serializer_class", None) is not None:
            raise UnsupportedSerializer(f"{name} has a list_serializer_class of its own.")
        model = serializer_class.Meta.model
        names, columns, shows = [], [], []
        for field_name, field in serializer_class().fields.items():
            if field.write_only:
                continue
            try:
                column, show = _column_of(model, field)
            except UnsupportedSerializer as refusal:
                raise UnsupportedSerializer(f"{name}.{field_name} cannot be shown from a column: {refusal}") from None
            names.append(field_name)
            columns.append(column)
            shows.append(show)
        return cls(tuple(names), tuple(columns), tuple(shows))

    def rows(self, tuples) -> list[dict]:
        """values_list() rows -> what `serializer.data` holds for them (None stays None, as in DRF)."""
        if not tuples:
            return []
        # Column by column: one tight loop per field instead of one dict write per value.
        columns = zip(*tuples, strict=True)
        shown = [_show(column, show) for column, show in zip(columns, self.shows, strict=True)]
        # Every row has one value per name (checked above); an unchecked zip is a fifth cheaper.
        return [dict(zip(self.names, values, strict=False)) for values in zip(*shown, strict=False)]


COLUMN = "column"


def _show(column, show):
    if show is None:
        return column
    if isinstance(show, tuple):  # (COLUMN, function of the whole column)
        return show[1](column)
    return [None if value is None else show(value) for value in column]


def _column_of(model, field) -> tuple[str, object]:
    """(the model attname behind `field`, how a value of it is shown); raises UnsupportedSerializer."""
    if isinstance(field, serializers.BaseSerializer):
        raise UnsupportedSerializer("a nested serializer needs the related objects.")
    if isinstance(field, serializers.SerializerMethodField):
        raise UnsupportedSerializer("a SerializerMethodField needs the instance.")
    if isinstance(field, relations.HyperlinkedRelatedField | relations.HyperlinkedIdentityField):
        raise UnsupportedSerializer("a hyperlink needs the request.")
    if isinstance(field, relations.ManyRelatedField):
        raise UnsupportedSerializer("a to-many relation needs the related objects.")
    if isinstance(field, relations.RelatedField) and not isinstance(field, relations.PrimaryKeyRelatedField):
        raise UnsupportedSerializer("it shows the related object (only a PrimaryKeyRelatedField shows a column).")
    model_field = _model_field(model, field.source)
    if isinstance(field, relations.PrimaryKeyRelatedField):
        return model_field.attname, _related_id(field, model_field)
    if type(field).get_attribute is not fields.Field.get_attribute:
        raise UnsupportedSerializer("its get_attribute() is its own.")
    if model_field.is_relation:
        raise UnsupportedSerializer("it shows a related object, not a column's value.")
    if type(model_field).descriptor_class is not models.Field.descriptor_class:
        raise UnsupportedSerializer("the model field's attribute is not the column's value.")
    _check_plain(field)
    if isinstance(field, Timestamp) and type(field).represent_column is Timestamp.represent_column:
        return model_field.attname, (COLUMN, field.represent_column)
    return model_field.attname, field.to_representation


def _model_field(model, source: str):
    if source == "*" or "." in source:
        raise UnsupportedSerializer(f"its source {source!r} is not one of the model's columns.")
    try:
        model_field = model._meta.get_field(source)
    except FieldDoesNotExist:
        raise UnsupportedSerializer(f"{source!r} is not a field of {model.__name__}.") from None
    if not model_field.concrete or model_field.many_to_many:
        raise UnsupportedSerializer(f"{source!r} is not a column of {model.__name__}.")
    return model_field


def _related_id(field, model_field):
    # PrimaryKeyRelatedField shows the related object's primary key (through pk_field when given):
    # the foreign key column holds it, unless the key points at another field (to_field).
    if type(field).to_representation is not relations.PrimaryKeyRelatedField.to_representation:
        raise UnsupportedSerializer("its to_representation() is its own.")
    if type(field).get_attribute is not relations.RelatedField.get_attribute:
        raise UnsupportedSerializer("its get_attribute() is its own.")
    if not (model_field.many_to_one or model_field.one_to_one) or "to_field" in model_field.deconstruct()[3]:
        raise UnsupportedSerializer("the column does not hold the related object's primary key.")
    if field.pk_field is None:
        return None
    _check_plain(field.pk_field)
    return field.pk_field.to_representation


def _check_plain(field) -> None:
    """Refuse a field whose representation could need more than the value (or is not DRF's own)."""
    method = type(field).to_representation
    if method is fields.ListField.to_representation:
        _check_plain(field.child)
    elif not any(isinstance(field, kind) and method is kind.to_representation for kind in PLAIN_FIELDS):
        raise UnsupportedSerializer(
            f"{type(field).__name__}.to_representation() is not one of DRF's plain fields' "
            "(it may need the instance, the request or the context)."
        )
