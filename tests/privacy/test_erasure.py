"""A person's erasure request: an admin erases a customer or contact now, unless legal hold is on;
the ledger keeps them erased through any restore; the report proves no value is left."""

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import Http404

from audit.models import AuditEvent
from backups.restore_rows import restored_models
from crm.records.erasure import MARK, holds_value
from crm.records.signals import restored_from_backup
from crm.tenancy.context import activate
from customers.models import Contact, Customer, Interaction, Ticket
from privacy import actions
from privacy.actions import OnLegalHold
from privacy.models import Erasure
from privacy.report import erasure_report
from sales.models import Opportunity
from tests.factories import make_member

FAMILY = (Customer, Contact, Interaction, Ticket, Opportunity)


@pytest.fixture
def person(records):
    customer = records.customer(kind="person", name="Zhang Wei", email="zhang.wei@example.com", phone="138")
    return {
        Customer: customer.pk,
        Contact: records.contact(customer, name="Li Na").pk,
        Interaction: records.interaction(customer, summary="Zhang Wei called").pk,
        Ticket: records.ticket(customer, subject="Refund for Zhang Wei").pk,
        Opportunity: records.opportunity(customer, name="Zhang Wei renewal").pk,
    }


def values_left(model, pk) -> int:
    return model.history.model.objects.filter(id=pk).filter(holds_value(model)).count()


def events(tenant, action):
    return list(AuditEvent.objects.filter(tenant=tenant, action=action).order_by("seq"))


def test_an_admin_erases_a_live_customer_with_everything_under_it_at_once(tenant, person, in_tenant, admin_user):
    event = actions.erase(Customer, person[Customer], acting_user=admin_user)

    for model, pk in person.items():
        assert not model.all_objects.filter(pk=pk).exists(), model
        assert model.history.model.objects.filter(id=pk).exists(), model  # the history rows stay
        assert values_left(model, pk) == 0, model
    assert event.action == AuditEvent.Action.ERASED and event.actor == admin_user
    assert event.detail["counts"] == {name._meta.model_name: 1 for name in FAMILY}
    assert events(tenant, AuditEvent.Action.PURGE) == []  # one event for the request: ERASED
    ledger = set(Erasure.objects.values_list("record_type", "record_id", "event_id", "event_hash"))
    assert ledger == {(model._meta.model_name, pk, event.pk, event.hash) for model, pk in person.items()}


def test_a_contact_is_erased_from_the_bin_and_its_customer_stays(records, in_tenant, admin_user):
    customer = records.customer()
    contact = records.contact(customer, name="Li Na", email="li.na@example.com")
    contact.delete()
    actions.erase(Contact, contact.pk, acting_user=admin_user)
    assert not Contact.all_objects.filter(pk=contact.pk).exists()
    assert values_left(Contact, contact.pk) == 0
    assert Customer.objects.filter(pk=customer.pk).exists()


def test_legal_hold_refuses_an_erasure_with_a_clear_message_and_nothing_changes(tenant, person, admin_user):
    tenant.legal_hold = True
    tenant.save()
    with activate(tenant, user=admin_user), pytest.raises(OnLegalHold, match="legal hold"):
        actions.erase(Customer, person[Customer], acting_user=admin_user)
    assert Customer.all_objects.filter(pk=person[Customer]).exists()
    assert not Erasure.all_objects.exists()
    [refusal] = events(tenant, AuditEvent.Action.REFUSED)
    assert refusal.detail == {"attempted": "erase", "reason": "legal_hold"}


@pytest.mark.parametrize("role", ["manager", "rep", "support", "viewer"])
def test_only_admins_erase(role, tenant, person):
    member = make_member(tenant, f"{role}-eraser", role=role)
    with activate(tenant, user=member), pytest.raises(PermissionDenied):
        actions.erase(Customer, person[Customer], acting_user=member)
    assert Customer.all_objects.filter(pk=person[Customer]).exists()


def test_a_record_of_another_company_is_not_found(tenant, other_records, admin_user):
    theirs = other_records.customer()
    with activate(tenant, user=admin_user), pytest.raises(Http404):
        actions.erase(Customer, theirs.pk, acting_user=admin_user)
    assert Customer.all_objects.filter(pk=theirs.pk).exists()


# -- the ledger: an erased person never comes back from a backup --------------------------------


def copy_aside(model, pk) -> tuple[str, str]:
    """Keep the record's row and history rows as a backup taken now would (temporary tables)."""
    live, history = model._meta.db_table, model.history.model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE TEMP TABLE "saved_{live}" AS SELECT * FROM "{live}" WHERE id = %s', [pk])
        cursor.execute(f'CREATE TEMP TABLE "saved_{history}" AS SELECT * FROM "{history}" WHERE id = %s', [pk])
    return live, history


def put_back(*tables):
    """What a restore does: the backup's rows replace those in the live tables."""
    with connection.cursor() as cursor:
        for table in tables:
            key = "history_id" if "historical" in table else "id"
            cursor.execute(f'DELETE FROM "{table}" WHERE "{key}" IN (SELECT "{key}" FROM "saved_{table}")')
            cursor.execute(f'INSERT INTO "{table}" SELECT * FROM "saved_{table}"')


def test_the_ledger_is_applied_again_after_a_restore(tenant, person, in_tenant, admin_user):
    saved = [*copy_aside(Customer, person[Customer]), *copy_aside(Contact, person[Contact])]
    actions.erase(Customer, person[Customer], acting_user=admin_user)
    put_back(*saved)
    assert Customer.all_objects.filter(pk=person[Customer]).exists()
    assert values_left(Customer, person[Customer]) > 0

    with activate(tenant, process="tests:restore"):
        restored_from_backup.send(sender=None, tenant=tenant, customer_id=person[Customer], run=None)

    for model in (Customer, Contact):
        assert not model.all_objects.filter(pk=person[model]).exists()
        assert values_left(model, person[model]) == 0
    [_erased, again] = events(tenant, AuditEvent.Action.ERASED)
    assert again.detail["reapplied"] is True and again.detail["counts"] == {"customer": 1, "contact": 1}
    with activate(tenant, process="tests:restore"):  # nothing came back: nothing to record
        restored_from_backup.send(sender=None, tenant=tenant, customer_id=None, run=None)
    assert len(events(tenant, AuditEvent.Action.ERASED)) == 2


def test_the_ledger_itself_is_never_restored():
    assert Erasure not in restored_models()


# -- the report --------------------------------------------------------------------------------


def test_the_report_checks_every_table_at_report_time_tied_to_the_event_hash(tenant, person, in_tenant, admin_user):
    event = actions.erase(Customer, person[Customer], acting_user=admin_user)
    report = erasure_report(event.pk)
    assert report["complete"] and report["left"] == 0
    assert report["erased"] == {model._meta.model_name: 1 for model in FAMILY}
    assert report["audit_event"] == {
        "id": event.pk,
        "seq": event.seq,
        "hash": event.hash,
        "ledger_hash": event.hash,
        "hash_verified": True,
    }
    checked = {(table["table"], table["kind"]) for table in report["tables"]}
    for model in FAMILY:
        assert {(model._meta.db_table, "live"), (model._meta.db_table, "bin")} <= checked
        assert (
            model.history.model._meta.db_table,
            "history",
        ) in checked
    assert report["erased_by"] == admin_user.username

    # A value put back behind the ledger's back shows at the next report.
    history = Customer.history.model
    history.objects.filter(id=person[Customer]).update(email="zhang.wei@example.com")
    report = erasure_report(event.pk)
    assert not report["complete"] and report["left"] == history.objects.filter(id=person[Customer]).count()
    assert MARK in str(history.objects.filter(id=person[Customer]).values_list("name", flat=True)[0])


def test_the_notifications_about_an_erased_person_no_longer_name_them(tenant, records, admin_user):
    from activities.models import Notification

    rep = make_member(tenant, role="rep")
    erased = records.customer(name="Zhang Wei", owner=rep)
    kept = records.customer(name="Bob Ltd", owner=rep)
    with activate(tenant, user=admin_user):
        actions.erase(Customer, erased.pk, acting_user=admin_user)
    labels = dict(Notification.all_objects.filter(user=rep).values_list("object_id", "label"))
    assert labels == {erased.pk: MARK, kept.pk: "Bob Ltd"}
