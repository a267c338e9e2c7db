"""List pages show rows through a plan built from the serializer's own fields, or through DRF."""

from rest_framework import serializers

from crm.api.serializers import RecordSerializer, list_plan
from customers.api.serializers import CustomerSerializer
from customers.models import Customer


def test_a_plain_serializer_has_a_plan_reading_only_its_columns():
    plan = list_plan(CustomerSerializer)
    assert plan.names == tuple(CustomerSerializer.Meta.fields)
    assert "owner_id" in plan.columns and "tenant_id" not in plan.columns


def test_a_serializer_with_a_field_that_needs_the_instance_has_no_plan():
    class WithMethodField(RecordSerializer):
        shout = serializers.SerializerMethodField()

        class Meta:
            model = Customer
            fields = ("id", "name", "shout")

        def get_shout(self, customer):
            return customer.name.upper()

    assert list_plan(WithMethodField) is None


def test_the_plan_shows_values_as_the_serializer_does():
    plan = list_plan(CustomerSerializer)
    row = dict.fromkeys(plan.columns)
    row.update(id=7, name="Acme", tags=["a", "b"], owner_id=3, kind="company")
    shown = plan.rows([tuple(row[column] for column in plan.columns)])[0]
    assert (shown["id"], shown["name"], shown["tags"], shown["owner"], shown["email"]) == (
        7,
        "Acme",
        ["a", "b"],
        3,
        None,
    )


def test_dates_are_written_as_drf_writes_them_in_the_current_time_zone():
    from datetime import UTC, datetime

    from django.utils import timezone
    from rest_framework.renderers import JSONRenderer

    from crm.api.renderers import OrjsonRenderer

    plan = list_plan(CustomerSerializer)
    field = CustomerSerializer().fields["created_at"]
    moments = [datetime(2026, 11, 22, 15, 4, 5, 123456, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC)]
    for zone in ("UTC", "Europe/London", "Asia/Shanghai", "America/New_York"):
        with timezone.override(zone):
            for moment in moments:
                row = dict.fromkeys(plan.columns)
                row["created_at"] = moment
                shown = plan.rows([tuple(row[column] for column in plan.columns)])[0]
                written = OrjsonRenderer().render(shown["created_at"])
                assert written == JSONRenderer().render(field.to_representation(moment))


def test_only_columns_the_database_gives_as_shown_pass_through_unchanged():
    plan = list_plan(CustomerSerializer)
    changed = {name for name, show in zip(plan.names, plan.represent, strict=True) if show is not None}
    assert changed == {"created_at", "updated_at"}
