"""Soft delete, cascade, restore and purge: nothing a user deletes is lost by accident."""

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext

from crm.records.softdelete import RestoreConflict
from crm.recyclebin import actions as recyclebin
from crm.recyclebin import listing
from crm.recyclebin.actions import Item
from crm.tenancy.context import activate
from customers.models import Contact, Customer, Interaction, Ticket
from sales.models import Opportunity
from tests.factories import RECORD_TYPES

MODELS = {
    "customer": Customer,
    "contact": Contact,
    "interaction": Interaction,
    "ticket": Ticket,
    "opportunity": Opportunity,
}


def snapshot(record):
    record = type(record).all_objects.get(pk=record.pk)
    return {field.attname: getattr(record, field.attname) for field in record._meta.concrete_fields}


@pytest.fixture
def family(records):
    """A customer with one of each child."""
    customer = records.customer(name="Family Co", email="family@example.com")
    return {
        "customer": customer,
        "contact": records.contact(customer),
        "interaction": records.interaction(customer),
        "ticket": records.ticket(customer),
        "opportunity": records.opportunity(customer),
    }


@pytest.mark.parametrize("record_type", RECORD_TYPES)
def test_delete_hides_the_record_and_restore_brings_it_back_identical(record_type, records, in_tenant, admin_user):
    record = records.any(record_type)
    model = type(record)
    before = snapshot(record)

    batch = recyclebin.delete(model.objects.filter(pk=record.pk), acting_user=admin_user)

    assert not model.objects.filter(pk=record.pk).exists()
    assert model.objects.count() == model.objects.for_user(admin_user).count() == 0
    assert list(model.deleted.values_list("pk", flat=True)) == [record.pk]
    deleted = model.all_objects.get(pk=record.pk)
    assert deleted.deleted_by == admin_user and deleted.deletion_batch == batch.id

    recyclebin.restore_batch(batch.id, acting_user=admin_user)
    # Identical but for the version: the delete and the restore are two writes.
    assert snapshot(record) == {**before, "version": before["version"] + 2}


def test_model_delete_and_queryset_delete_are_soft(records, in_tenant):
    first, second, third = records.customer(), records.customer(), records.customer()
    first.delete()
    assert first.is_deleted
    Customer.objects.filter(pk=second.pk).delete()
    assert set(Customer.all_objects.values_list("pk", flat=True)) == {first.pk, second.pk, third.pk}
    assert list(Customer.objects.values_list("pk", flat=True)) == [third.pk]


def test_hard_delete_is_a_separate_explicit_path_for_binned_rows_only(records, in_tenant):
    from crm.records.purge import purge_rows

    alive, binned = records.customer(), records.customer()
    binned.delete()
    assert purge_rows(Customer, [alive.pk, binned.pk]) == {"customer": 1}
    assert Customer.objects.filter(pk=alive.pk).exists()
    assert not Customer.all_objects.filter(pk=binned.pk).exists()


def test_deleting_a_customer_moves_its_children_in_the_same_batch(family, in_tenant, admin_user):
    customer = family["customer"]
    batch = recyclebin.delete(Customer.objects.filter(pk=customer.pk), acting_user=admin_user)
    assert batch.counts == {"customer": 1, "contact": 1, "interaction": 1, "ticket": 1, "opportunity": 1}
    for name, record in family.items():
        row = MODELS[name].all_objects.get(pk=record.pk)
        assert (row.deletion_batch, row.deleted_at, row.deleted_by) == (batch.id, batch.deleted_at, admin_user)
    assert not Ticket.objects.filter(customer=customer).exists()
    assert not Customer.objects.filter(tickets__subject=family["ticket"].subject).exists()


def test_deleting_is_set_based(records, in_tenant, admin_user):
    customers = [records.customer() for _ in range(5)]
    for customer in customers:
        records.contact(customer)
        records.ticket(customer)
    few = Customer.objects.filter(pk=customers[0].pk)
    with CaptureQueriesContext(connection) as one:
        recyclebin.delete(few, acting_user=admin_user)
    with CaptureQueriesContext(connection) as many:
        recyclebin.delete(Customer.objects.all(), acting_user=admin_user)
    assert len(many) == len(one)


def test_restoring_the_customer_leaves_children_deleted_earlier_in_the_bin(family, in_tenant, admin_user):
    earlier = recyclebin.delete(Contact.objects.filter(pk=family["contact"].pk), acting_user=admin_user)
    later = recyclebin.delete(Customer.objects.filter(pk=family["customer"].pk), acting_user=admin_user)
    assert later.counts == {"customer": 1, "interaction": 1, "ticket": 1, "opportunity": 1}

    recyclebin.restore([Item(Customer, family["customer"].pk)], acting_user=admin_user)

    assert Customer.objects.filter(pk=family["customer"].pk).exists()
    assert Ticket.objects.filter(pk=family["ticket"].pk).exists()
    assert Contact.deleted.filter(pk=family["contact"].pk, deletion_batch=earlier.id).exists()


def test_restoring_a_child_whose_parent_is_in_the_bin_is_refused_naming_the_parent(family, in_tenant, admin_user):
    recyclebin.delete(Customer.objects.filter(pk=family["customer"].pk), acting_user=admin_user)
    with pytest.raises(RestoreConflict) as refusal:
        recyclebin.restore([Item(Ticket, family["ticket"].pk)], acting_user=admin_user)
    assert "Family Co" in str(refusal.value)
    assert refusal.value.parent == family["customer"]
    assert Ticket.deleted.filter(pk=family["ticket"].pk).exists()


def test_restoring_a_customer_whose_email_is_taken_again_is_refused(records, in_tenant, admin_user):
    old = records.customer(name="Old", email="Same@Example.com")
    recyclebin.delete(Customer.objects.filter(pk=old.pk), acting_user=admin_user)
    records.customer(name="New", email="same@example.COM")
    with pytest.raises(RestoreConflict) as refusal:
        recyclebin.restore([Item(Customer, old.pk)], acting_user=admin_user)
    assert "Old" in str(refusal.value) and "email" in str(refusal.value)
    assert Customer.deleted.filter(pk=old.pk).exists()


def test_a_deleted_customers_email_can_be_used_again(records, in_tenant, admin_user):
    old = records.customer(email="reuse@example.com")
    recyclebin.delete(Customer.objects.filter(pk=old.pk), acting_user=admin_user)
    assert records.customer(email="reuse@example.com").pk != old.pk


def test_purge_removes_the_record_and_its_children_for_good(family, in_tenant, admin_user):
    recyclebin.delete(Customer.objects.filter(pk=family["customer"].pk), acting_user=admin_user)
    counts = recyclebin.purge([Item(Customer, family["customer"].pk)], acting_user=admin_user)
    assert counts == {"customer": 1, "contact": 1, "interaction": 1, "ticket": 1, "opportunity": 1}
    for name, record in family.items():
        assert not MODELS[name].all_objects.filter(pk=record.pk).exists()


def test_only_records_in_the_bin_can_be_restored_or_purged(records, in_tenant, admin_user):
    alive = records.customer()
    with pytest.raises(recyclebin.NotInBin):
        recyclebin.restore([Item(Customer, alive.pk)], acting_user=admin_user)
    with pytest.raises(recyclebin.NotInBin):
        recyclebin.purge([Item(Customer, alive.pk)], acting_user=admin_user)
    with pytest.raises(recyclebin.NotInBin):
        recyclebin.restore([Item(Customer, 99999999)], acting_user=admin_user)
    assert Customer.objects.filter(pk=alive.pk).exists()


def test_another_tenants_bin_is_out_of_reach(records, other_records, admin_user):
    theirs = other_records.customer()
    with activate(other_records.tenant):
        theirs.delete()
    with activate(records.tenant), pytest.raises(recyclebin.NotInBin):
        recyclebin.restore([Item(Customer, theirs.pk)], acting_user=admin_user)
    with activate(records.tenant):
        assert list(listing.entries(admin_user)) == []


def test_the_bin_lists_every_type_newest_first_with_batch_sizes(family, records, in_tenant, admin_user):
    lone = records.ticket(subject="Lonely ticket")
    recyclebin.delete(Customer.objects.filter(pk=family["customer"].pk), acting_user=admin_user)
    recyclebin.delete(Ticket.objects.filter(pk=lone.pk), acting_user=admin_user)
    rows = list(listing.entries(admin_user))
    assert rows[0]["type"] == "ticket" and rows[0]["label"] == "Lonely ticket"
    assert {row["type"] for row in rows} == set(MODELS)
    sizes = listing.batch_sizes({row["deletion_batch"] for row in rows})
    assert sizes[rows[0]["deletion_batch"]] == 1
    assert sizes[rows[-1]["deletion_batch"]] == 5
    assert [row["label"] for row in listing.entries(admin_user, types=["customer"])] == ["Family Co"]
    assert [row["label"] for row in listing.entries(admin_user, search="lonely")] == ["Lonely ticket"]


def test_restore_refusal_changes_nothing_even_for_the_rows_that_could_come_back(records, in_tenant, admin_user):
    fine = records.customer(email="fine@example.com")
    clash = records.customer(email="clash@example.com")
    recyclebin.delete(Customer.objects.filter(pk__in=[fine.pk, clash.pk]), acting_user=admin_user)
    records.customer(email="clash@example.com")
    with pytest.raises(RestoreConflict):
        recyclebin.restore([Item(Customer, fine.pk), Item(Customer, clash.pk)], acting_user=admin_user)
    assert Customer.deleted.filter(pk__in=[fine.pk, clash.pk]).count() == 2


def test_delete_refuses_records_the_user_may_not_delete(records, in_tenant, tenant):
    from tests.factories import make_member

    viewer = make_member(tenant, role="viewer")
    customer = records.customer()
    with pytest.raises(PermissionDenied):
        recyclebin.delete(Customer.objects.filter(pk=customer.pk), acting_user=viewer)
    assert Customer.objects.filter(pk=customer.pk).exists()


def test_restore_values_match_field_by_field_after_a_cascade(family, in_tenant, admin_user):
    before = {name: model_to_dict(MODELS[name].all_objects.get(pk=r.pk)) for name, r in family.items()}
    batch = recyclebin.delete(Customer.objects.filter(pk=family["customer"].pk), acting_user=admin_user)
    recyclebin.restore_batch(batch.id, acting_user=admin_user)
    after = {name: model_to_dict(MODELS[name].all_objects.get(pk=r.pk)) for name, r in family.items()}
    assert after == before
