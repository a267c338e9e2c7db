"""An imported record is the record its create action makes from the same values.

What the rules fill in besides what was entered (the owner is whoever adds the record, a
deal's stage sets its probability and closing time and clears a lost reason, a ticket's
status sets its resolved time) comes from one function per type that the create action and
the importer both call (customers.actions.new_customer_values, new_ticket_values,
sales.actions.new_opportunity_values): compared here field by field, ids and timestamps apart.
"""

from decimal import Decimal

import pytest

from crm.tenancy.context import activate
from customers import actions as customer_actions
from imports import actions
from imports.models import ImportRow
from imports.specs import spec_for
from sales import actions as sales_actions
from tests.imports.helpers import csv_bytes

pytestmark = pytest.mark.django_db

STAMPS = {"id", "created_at", "updated_at"}
MOMENTS = {"closed_at", "resolved_at"}  # "now" when derived: compared as set or not


def fields_of(record) -> dict:
    shown = {}
    for field in type(record)._meta.concrete_fields:
        if field.name in STAMPS:
            continue
        value = getattr(record, field.attname)
        shown[field.name] = (value is not None) if field.name in MOMENTS else value
    return shown


def imported(tenant, user, record_type, header, cells):
    """The one record an import of a file of one line creates."""
    with activate(tenant, user=user):
        job = actions.upload(csv_bytes([header, cells]), "f.csv", record_type, acting_user=user)
        job = actions.run(actions.preview(job, acting_user=user), acting_user=user)
        assert job.created == 1, list(ImportRow.all_objects.filter(batch=job).values_list("reason", flat=True))
        pk = ImportRow.all_objects.get(batch=job).record_id
        return spec_for(record_type).model.objects.get(pk=pk)


def created(tenant, user, create, *args, **values):
    with activate(tenant, user=user):
        return create(*args, acting_user=user, **values)


def test_an_imported_customer_gets_the_owner_the_action_gives_whoever_adds_it(tenant, admin_user):
    record = imported(tenant, admin_user, "customers", ["客户名称", "电话", "等级"], ["Imported Co", "+86 138 1", "A"])
    same = created(
        tenant, admin_user, customer_actions.create_customer, name="Imported Co", phone="+86 138 1", tier="A"
    )
    assert record.owner_id == admin_user.pk
    assert fields_of(record) == fields_of(same)


@pytest.mark.parametrize(
    ("header", "cells", "values"),
    [
        (["Customer", "商机名称", "金额", "阶段"], ["Acme", "Big deal", "1200", "won"], {"stage": "won"}),
        (
            ["Customer", "商机名称", "阶段", "概率", "丢单原因"],
            ["Acme", "Open deal", "negotiation", "", "Too dear"],
            {"stage": "negotiation", "lost_reason": "Too dear"},
        ),
    ],
)
def test_an_imported_deal_gets_what_its_stage_derives_as_created_through_the_action(
    tenant, admin_user, records, header, cells, values
):
    acme = records.customer(name="Acme", email="acme@example.com")
    record = imported(tenant, admin_user, "opportunities", header, cells)
    amount = {"amount": Decimal(cells[2])} if header[2] == "金额" else {}
    same = created(tenant, admin_user, sales_actions.create_opportunity, acme, name=cells[1], **amount, **values)
    assert fields_of(record) == fields_of(same)
    assert (record.owner_id, record.lost_reason) == (admin_user.pk, "")
    assert record.probability == {"won": 100, "negotiation": 75}[values["stage"]]  # not the field's default, 10


def test_an_imported_ticket_gets_the_resolved_time_its_status_derives(tenant, admin_user, records):
    acme = records.customer(name="Acme", email="acme@example.com")
    record = imported(tenant, admin_user, "tickets", ["客户", "主题", "状态"], ["Acme", "Printer on fire", "resolved"])
    same = created(
        tenant, admin_user, customer_actions.create_ticket, acme, subject="Printer on fire", status="resolved"
    )
    assert record.resolved_at is not None
    assert fields_of(record) == fields_of(same)


def test_an_imported_contact_equals_the_contact_created_through_the_action(tenant, admin_user, records):
    acme = records.customer(name="Acme", email="acme@example.com")
    tenant.duplicate_email = "warn"  # the second Ann is made on purpose
    tenant.save(update_fields=["duplicate_email"])
    record = imported(tenant, admin_user, "contacts", ["客户", "联系人", "邮箱"], ["Acme", "Ann", "ann@example.com"])
    same = created(tenant, admin_user, customer_actions.create_contact, acme, name="Ann", email="ann@example.com")
    assert fields_of(record) == fields_of(same)
