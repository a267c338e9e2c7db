"""History rows and audit events for every mutating path; the log is append-only and tamper-evident."""

import threading
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.utils import timezone

from audit.chain import prune, verify_chain
from audit.events import record
from audit.models import AuditEvent
from crm.recyclebin import actions as recyclebin
from crm.recyclebin.actions import Item
from crm.tenancy.context import activate
from customers import actions as customer_actions
from customers.models import Contact, Customer, Ticket
from tests.factories import PASSWORD, RecordMaker, make_member, make_tenant


def events(tenant, **filters):
    return list(AuditEvent.objects.filter(tenant=tenant, **filters).order_by("seq"))


def test_create_and_update_leave_history_and_events(records, in_tenant, admin_user):
    customer = records.customer(name="Before", phone="1")
    customer_actions.update_customer(customer, name="After", phone="1", acting_user=admin_user)
    history = list(customer.history.order_by("history_id"))
    assert [(row.history_type, row.history_change_reason) for row in history] == [("+", "created"), ("~", "edited")]
    assert history[-1].history_user == admin_user and history[-1].tenant_id == in_tenant.pk
    assert history[-1].process == "tests"
    create, update = events(in_tenant, object_type="customer", object_id=str(customer.pk))
    assert (create.action, update.action) == ("create", "update")
    assert update.detail == {"fields": ["name"]}
    assert "After" not in str(update.detail)  # no personal data values in the log


def test_an_update_that_changes_nothing_writes_nothing(records, in_tenant, admin_user):
    customer = records.customer(name="Same")
    before = AuditEvent.objects.count(), customer.history.count()
    customer_actions.update_customer(customer, name="Same", acting_user=admin_user)
    assert (AuditEvent.objects.count(), customer.history.count()) == before


def test_delete_restore_and_purge_write_history_in_bulk_and_one_event_each(records, in_tenant, admin_user):
    customer = records.customer()
    contacts = [records.contact(customer) for _ in range(3)]
    batch = recyclebin.delete(Customer.objects.filter(pk=customer.pk), acting_user=admin_user)
    recyclebin.restore_batch(batch.id, acting_user=admin_user)
    recyclebin.delete(Customer.objects.filter(pk=customer.pk), acting_user=admin_user)
    recyclebin.purge([Item(Customer, customer.pk)], acting_user=admin_user)

    reasons = list(
        Contact.history.filter(id=contacts[0].pk)
        .order_by("history_id")
        .values_list("history_type", "history_change_reason")
    )
    assert reasons == [("+", "created"), ("~", "deleted"), ("~", "restored"), ("~", "deleted"), ("-", "purged")]
    assert Contact.history.filter(history_change_reason="deleted").count() == 6
    actions = [event.action for event in events(in_tenant) if event.action in ("delete", "restore", "purge")]
    assert actions == ["delete", "restore", "delete", "purge"]
    delete_event = events(in_tenant, action="delete")[0]
    assert delete_event.batch == batch.id and delete_event.count == 4
    assert delete_event.detail["counts"] == {"customer": 1, "contact": 3}


def test_refused_attempts_are_recorded(records, tenant, admin_user):
    viewer = make_member(tenant, "peeker", role="viewer")
    customer = records.customer()
    with activate(tenant, user=viewer), pytest.raises(recyclebin.PermissionDenied):
        recyclebin.delete(Customer.objects.filter(pk=customer.pk), acting_user=viewer)
    refused = events(tenant, action="refused")
    assert len(refused) == 1 and refused[0].actor == viewer and refused[0].detail["attempted"] == "delete"


def test_logins_logouts_and_failed_logins_are_recorded(admin_user, tenant):
    client = Client()
    client.post("/accounts/login/", {"username": "alice", "password": "wrong"})
    client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    client.post("/accounts/logout/")
    assert [event.action for event in events(tenant)][-3:] == ["login_failed", "login", "logout"]


@pytest.mark.django_db
def test_the_event_table_refuses_update_and_delete(tenant):
    event = record("settings", tenant=tenant)
    for statement in (
        "UPDATE audit_auditevent SET action = 'x' WHERE id = %s",
        "DELETE FROM audit_auditevent WHERE id = %s",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, [event.pk])
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()


def tamper(event_id, **values):
    """What an attacker with superuser rights could do: bypass the trigger and edit a row."""
    assignments = ", ".join(f"{column} = %s" for column in values)
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")  # superuser: triggers off
        cursor.execute(f"UPDATE audit_auditevent SET {assignments} WHERE id = %s", [*values.values(), event_id])
        cursor.execute("SET session_replication_role = origin")


def test_verify_audit_reports_ok_with_the_number_checked(tenant, capsys):
    for _ in range(5):
        record("settings", tenant=tenant)
    call_command("verify_audit", "--tenant", tenant.slug)
    assert capsys.readouterr().out.strip() == "OK: 5 events checked"


def test_verify_audit_names_the_altered_event(tenant, capsys):
    written = [record("settings", tenant=tenant, count=n) for n in range(6)]
    tamper(written[3].pk, count=999)
    with pytest.raises(SystemExit) as exit_code:
        call_command("verify_audit")
    assert exit_code.value.code == 1
    assert f"event {written[3].pk}" in capsys.readouterr().out


def test_a_removed_event_breaks_the_chain_at_its_successor(tenant, capsys):
    written = [record("settings", tenant=tenant) for _ in range(4)]
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [written[1].pk])
        cursor.execute("SET session_replication_role = origin")
    assert verify_chain(tenant.pk).broken_event_id == written[2].pk


def test_pruning_writes_a_checkpoint_and_the_chain_still_verifies(tenant):
    for _ in range(3):
        record("settings", tenant=tenant)
    kept = record("settings", tenant=tenant)
    assert prune(tenant, before=kept.created_at) == 3
    report = verify_chain(tenant.pk)
    assert report.ok and report.checked == 2
    assert AuditEvent.objects.filter(tenant=tenant, action="checkpoint").count() == 1


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_writers_leave_one_valid_chain():
    tenant = make_tenant("busy")
    barrier = threading.Barrier(20)
    errors = []

    def writer():
        try:
            barrier.wait(timeout=10)
            for _ in range(5):
                record("settings", tenant=tenant)
        except Exception as error:  # any error is the failure we look for
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    report = verify_chain(tenant.pk)
    assert report.ok and report.checked == 100


def test_commands_and_tasks_record_their_process(tenant, records):
    from crm.recyclebin.tasks import purge_recycle_bin

    with activate(tenant):
        customer = records.customer()
        customer.delete()
    Customer.all_objects.filter(pk=customer.pk).update(deleted_at=timezone.now() - timedelta(days=90))
    purge_recycle_bin.apply()
    purge = events(tenant, action="retention_purge")
    assert purge and purge[0].process == "celery:purge_recycle_bin"
    history = Customer.history.filter(id=customer.pk, history_type="-").get()
    assert history.process == "celery:purge_recycle_bin" and history.history_change_reason == "purged"


@pytest.mark.django_db
def test_seed_demo_leaves_a_verifiable_chain_with_actors(capsys):
    call_command("seed_demo")
    call_command("verify_audit")
    assert capsys.readouterr().out.strip().splitlines()[-1].startswith("OK:")
    assert not AuditEvent.objects.filter(actor__isnull=True, process="").exists()
    for model in (Customer, Ticket):
        assert not model.history.filter(history_user__isnull=True, process="").exists()


def test_history_rows_carry_request_id_and_ip_from_the_browser(tenant, admin_user):
    client = Client(REMOTE_ADDR="203.0.113.7")
    client.login(username=admin_user.username, password=PASSWORD)
    maker = RecordMaker(tenant, admin_user)
    customer = maker.customer(name="Via browser")
    response = client.post(
        f"/recycle-bin/delete/customer/?ids={customer.pk}",
        {"ids": str(customer.pk), "confirm": "1"},
        HTTP_X_REQUEST_ID="req-12345",
    )
    assert response.status_code in (302, 303)
    row = Customer.history.filter(id=customer.pk, history_change_reason="deleted").get()
    assert (row.request_id, row.ip_address, row.history_user) == ("req-12345", "203.0.113.7", admin_user)


def test_audit_retention_drops_only_old_events_and_keeps_the_chain_valid(tenant, settings):
    from audit.tasks import prune_audit_log

    settings.AUDIT_RETENTION_DAYS = 30
    with time_machine.travel(timezone.now() - timedelta(days=40), tick=False):
        for _ in range(3):
            record("settings", tenant=tenant)
    kept = record("settings", tenant=tenant)
    assert prune_audit_log.apply().get() == {tenant.slug: 3, "(system)": 0}
    assert list(AuditEvent.objects.filter(tenant=tenant).values_list("action", flat=True).order_by("seq")) == [
        "settings",
        "checkpoint",
    ]
    assert AuditEvent.objects.filter(pk=kept.pk).exists()
    assert verify_chain(tenant.pk).ok
    assert AuditEvent.objects.get(action="checkpoint").process == "celery:prune_audit_log"
