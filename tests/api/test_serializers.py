"""List pages from the columns (crm.api.listplan): declared per viewset, exact, or refused at definition."""

import zoneinfo
from datetime import UTC, datetime, timedelta
from datetime import timezone as fixed_offset
from decimal import Decimal

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from rest_framework import serializers

from crm.api.listplan import ListPlan, Timestamp
from crm.api.serializers import RecordSerializer
from crm.api.viewsets import RecordViewSet
from crm.tenancy.context import activate
from customers.api.serializers import CustomerSerializer
from customers.api.viewsets import ContactViewSet, CustomerViewSet, InteractionViewSet, TicketViewSet
from customers.models import Customer
from sales.api.viewsets import OpportunityViewSet

VIEWSETS = [CustomerViewSet, ContactViewSet, InteractionViewSet, TicketViewSet, OpportunityViewSet]
ZONES = ["UTC", "Asia/Shanghai", "America/New_York", "Europe/London", "Asia/Kolkata"]


def readable(serializer_class) -> list[str]:
    return [name for name, field in serializer_class().fields.items() if not field.write_only]


@pytest.mark.parametrize("viewset", VIEWSETS, ids=lambda viewset: viewset.__name__)
def test_every_resource_declares_its_plan_with_the_serializers_fields(viewset):
    assert viewset.list_from_columns
    assert list(viewset.list_plan.names) == readable(viewset.serializer_class)


def test_the_plan_reads_only_the_columns_it_shows():
    plan = CustomerViewSet.list_plan
    assert "owner_id" in plan.columns and "tenant_id" not in plan.columns and "deleted_at" not in plan.columns


# -- exactly what the serializer shows ------------------------------------------------------------


@pytest.fixture
def varied_records(records):
    """Records of the five types with nulls, blanks, odd text, dates at and off whole seconds."""
    first = records.customer(
        name="Ünïcödé & <Co>", kind="person", tags=["vip", "a&b", "x y"], phone="", website="", owner=None
    )
    second = records.customer(name="Plain", tier="A", status="active", tags=[])
    with activate(records.tenant):
        Customer.all_objects.filter(pk=second.pk).update(created_at=datetime(2026, 3, 29, 1, 30, tzinfo=UTC))
    contact = records.contact(first, title="CEO", email="")
    records.interaction(first, contact=contact, occurred_at=datetime(2026, 10, 25, 0, 59, 59, 999999, tzinfo=UTC))
    records.interaction(second)
    records.ticket(first, assignee=records.actor, due_at=None, priority="urgent")
    records.ticket(second, status="resolved")
    records.opportunity(first, amount=Decimal("1234567.89"), probability=0, expected_close_date=None)
    records.opportunity(second, stage="won", owner=None)
    return records


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("viewset", VIEWSETS, ids=lambda viewset: viewset.__name__)
def test_plan_rows_are_what_the_serializer_shows(viewset, zone, varied_records):
    with activate(varied_records.tenant), timezone.override(zoneinfo.ZoneInfo(zone)):
        records = viewset.model.objects.order_by("pk")
        assert records.exists()
        expected = viewset.serializer_class(records, many=True).data
        shown = viewset.list_plan.rows(list(records.values_list(*viewset.list_plan.columns)))
    assert shown == [dict(row) for row in expected]


def test_an_empty_page_is_no_rows():
    assert CustomerViewSet.list_plan.rows([]) == []


# -- date-times a column at a time ------------------------------------------------------------------

MOMENTS = [
    datetime(2026, 11, 22, 15, 4, 5, 123456, tzinfo=UTC),
    datetime(2026, 1, 1, tzinfo=UTC),
    datetime(2026, 3, 29, 0, 59, 59, 999999, tzinfo=UTC),  # just before London's clocks go forward
    datetime(2026, 3, 29, 1, 0, tzinfo=UTC),
    datetime(2026, 11, 1, 5, 30, tzinfo=UTC),  # New York's repeated hour
    datetime(2026, 7, 1, 8, 0, tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai")),
    datetime(2026, 7, 1, 8, 0, tzinfo=fixed_offset(timedelta(hours=-3, minutes=-30))),
    datetime(1, 1, 1, 0, 0, tzinfo=UTC) + timedelta(days=1),
    datetime(9999, 12, 30, tzinfo=UTC),
    None,
]


@pytest.mark.parametrize("zone", [*ZONES, "Etc/UTC", "Pacific/Chatham"])
def test_a_timestamp_column_is_what_drf_shows_value_by_value(zone):
    field = serializers.DateTimeField()
    with timezone.override(zoneinfo.ZoneInfo(zone)):
        expected = [None if moment is None else field.to_representation(moment) for moment in MOMENTS]
        assert Timestamp().represent_column(MOMENTS) == expected
        assert [None if moment is None else Timestamp().to_representation(moment) for moment in MOMENTS] == expected


def test_a_timestamp_column_with_naive_values_goes_through_drf(settings):
    naive = datetime(2026, 5, 5, 12, 0)
    with timezone.override(zoneinfo.ZoneInfo("Asia/Shanghai")):
        assert Timestamp().represent_column([naive]) == [serializers.DateTimeField().to_representation(naive)]


def test_a_timestamp_follows_drfs_datetime_format_setting(settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DATETIME_FORMAT": "%Y-%m-%d %H:%M"}
    moment = datetime(2026, 11, 22, 15, 4, 5, tzinfo=UTC)
    assert Timestamp().represent_column([moment]) == ["2026-11-22 15:04"]


def test_a_timestamp_takes_no_other_format_or_zone():
    for arguments in ({"format": "%Y"}, {"default_timezone": UTC}):
        with pytest.raises(TypeError):
            Timestamp(**arguments)


def test_record_serializers_show_model_date_times_as_timestamps():
    assert type(CustomerSerializer().fields["created_at"]) is Timestamp


# -- refused when the class is defined --------------------------------------------------------------


class ShoutingName(serializers.CharField):
    def to_representation(self, value):
        return str(value).upper()


class FirstTag(serializers.CharField):
    def get_attribute(self, instance):
        return instance.tags[0] if instance.tags else None


def customer_serializer(methods=None, **declared):
    """A customer serializer showing id, name and the `declared` fields (with `methods`)."""
    meta = type("Meta", (), {"model": Customer, "fields": ("id", "name", *declared)})
    return type("Customers", (RecordSerializer,), {"Meta": meta, **declared, **(methods or {})})


class OwnRepresentation(RecordSerializer):
    class Meta:
        model = Customer
        fields = ("id", "name")

    def to_representation(self, instance):
        return {**super().to_representation(instance), "name": instance.name.upper()}


class FieldsPerRequest(RecordSerializer):
    class Meta:
        model = Customer
        fields = ("id", "name", "notes")

    def get_fields(self):
        fields = super().get_fields()
        if "request" in self.context:
            fields.pop("notes")
        return fields


class WithOwnListSerializer(RecordSerializer):
    class Meta:
        model = Customer
        fields = ("id", "name")
        list_serializer_class = serializers.ListSerializer


class OwnerSerializer(serializers.Serializer):
    username = serializers.CharField()


REFUSED = {
    "own to_representation": (OwnRepresentation, "has its own to_representation()"),
    "fields built per request": (FieldsPerRequest, "has its own get_fields()"),
    "own list serializer": (WithOwnListSerializer, "list_serializer_class"),
    "method field": (
        customer_serializer(
            methods={"get_shout": lambda self, customer: customer.name}, shout=serializers.SerializerMethodField()
        ),
        "shout cannot be shown from a column: a SerializerMethodField needs the instance",
    ),
    "nested serializer": (
        customer_serializer(owner=OwnerSerializer(read_only=True)),
        "owner cannot be shown from a column: a nested serializer",
    ),
    "hyperlink": (
        customer_serializer(owner=serializers.HyperlinkedRelatedField(read_only=True, view_name="api:customer-detail")),
        "owner cannot be shown from a column: a hyperlink needs the request",
    ),
    "a related object as text": (
        customer_serializer(owner=serializers.StringRelatedField()),
        "owner cannot be shown from a column: it shows the related object",
    ),
    "to-many ids": (
        customer_serializer(shares=serializers.PrimaryKeyRelatedField(many=True, read_only=True)),
        "shares cannot be shown from a column: a to-many relation",
    ),
    "field with its own to_representation": (
        customer_serializer(name=ShoutingName()),
        r"name cannot be shown from a column: ShoutingName.to_representation\(\) is not one of DRF's plain fields'",
    ),
    "field with its own get_attribute": (
        customer_serializer(first_tag=FirstTag(source="tags")),
        r"first_tag cannot be shown from a column: its get_attribute\(\) is its own",
    ),
    "a property": (
        customer_serializer(label=serializers.CharField(source="__str__", read_only=True)),
        "label cannot be shown from a column: '__str__' is not a field of Customer",
    ),
    "a dotted source": (
        customer_serializer(owner_name=serializers.CharField(source="owner.username", read_only=True)),
        "owner_name cannot be shown from a column: its source 'owner.username'",
    ),
    "the whole object": (
        customer_serializer(everything=serializers.ReadOnlyField(source="*")),
        r"everything cannot be shown from a column: its source '\*'",
    ),
    "a foreign key shown as text": (
        customer_serializer(owner=serializers.CharField(read_only=True)),
        "owner cannot be shown from a column: it shows a related object",
    ),
}


@pytest.mark.parametrize(("refused", "named"), REFUSED.values(), ids=REFUSED.keys())
def test_a_viewset_cannot_declare_a_plan_its_serializer_would_not_honour(refused, named):
    with pytest.raises(ImproperlyConfigured, match=named) as refusal:

        class Listed(RecordViewSet):
            model = Customer
            serializer_class = refused
            list_from_columns = True

            def create_record(self, values):
                raise NotImplementedError

            def update_record(self, record, values):
                raise NotImplementedError

    assert "Listed.list_from_columns" in str(refusal.value)
    with pytest.raises(ImproperlyConfigured):
        ListPlan.of(refused)


def test_without_the_declaration_a_viewset_lists_through_drf():
    class Listed(RecordViewSet):
        model = Customer
        serializer_class = OwnRepresentation

        def create_record(self, values):
            raise NotImplementedError

        def update_record(self, record, values):
            raise NotImplementedError

    assert Listed.list_plan is None


def test_a_viewset_choosing_its_serializer_per_request_cannot_declare_a_plan():
    with pytest.raises(ImproperlyConfigured, match="get_serializer_class"):

        class Listed(RecordViewSet):
            model = Customer
            serializer_class = CustomerSerializer
            list_from_columns = True

            def get_serializer_class(self):
                return CustomerSerializer

            def create_record(self, values):
                raise NotImplementedError

            def update_record(self, record, values):
                raise NotImplementedError
