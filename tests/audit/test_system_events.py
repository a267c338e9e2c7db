"""Events without a tenant (backups, drills, failed logins of unknown users) live on their own chain.

audit_auditevent is tenant-owned (tenant_id NOT NULL, keyed by tenant); the system
chain in audit_systemevent is append-only and verifiable like a tenant's, is pruned
with a checkpoint, and the migration moved the old tenant-less rows over intact.
"""

import pytest
from django.core.management import call_command
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.utils import timezone

from audit.actions import prune_expired
from audit.chain import prune, verify_chain
from audit.events import GENESIS, chain_hash, record
from audit.models import AuditEvent, SystemEvent
from crm.tenancy.context import activate
from tests.factories import make_tenant


def system_chain() -> list:
    return list(SystemEvent.objects.order_by("seq"))


@pytest.mark.django_db
def test_an_event_without_a_tenant_goes_on_the_system_chain(tenant):
    event = record(AuditEvent.Action.BACKUP_CREATED, object_type="backup", object_id=7)
    assert isinstance(event, SystemEvent) and event.seq == 1 and event.prev_hash == GENESIS
    assert not AuditEvent.objects.exists()
    with activate(tenant):
        in_tenant = record(AuditEvent.Action.SETTINGS)
    assert isinstance(in_tenant, AuditEvent) and in_tenant.tenant_id == tenant.pk and in_tenant.seq == 1
    second = record(AuditEvent.Action.BACKUP_VERIFIED, tenant=None)
    assert (second.seq, second.prev_hash) == (2, event.hash)
    assert verify_chain(None).ok and verify_chain(None).checked == 2


@pytest.mark.django_db
def test_audit_events_cannot_lose_their_tenant():
    event = record(AuditEvent.Action.BACKUP_CREATED)
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEvent.objects.create(**{f.attname: getattr(event, f.attname) for f in SystemEvent._meta.concrete_fields})


@pytest.mark.django_db
def test_a_failed_login_of_an_unknown_user_is_a_system_event():
    Client().post("/accounts/login/", {"username": "nobody-here", "password": "x"})
    (event,) = system_chain()
    assert event.action == "login_failed" and event.detail == {"known_user": False} and event.actor is None


@pytest.mark.django_db
def test_the_system_table_refuses_update_and_delete():
    event = record(AuditEvent.Action.BACKUP_CREATED)
    for statement in (
        "UPDATE audit_systemevent SET action = 'x' WHERE id = %s",
        "DELETE FROM audit_systemevent WHERE id = %s",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, [event.pk])
    assert SystemEvent.objects.filter(pk=event.pk, action="backup_created").exists()


@pytest.mark.django_db
def test_verify_audit_checks_the_system_chain_and_names_a_tampered_system_event(tenant, capsys):
    written = [record(AuditEvent.Action.BACKUP_CREATED, count=n) for n in range(3)]
    record(AuditEvent.Action.SETTINGS, tenant=tenant)
    call_command("verify_audit")
    assert capsys.readouterr().out.strip() == "OK: 4 events checked"
    call_command("verify_audit", "--system")
    assert capsys.readouterr().out.strip() == "OK: 3 events checked"
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")  # superuser: triggers off
        cursor.execute("UPDATE audit_systemevent SET count = 99 WHERE id = %s", [written[1].pk])
        cursor.execute("SET session_replication_role = origin")
    with pytest.raises(SystemExit) as exit_code:
        call_command("verify_audit")
    assert exit_code.value.code == 1
    assert f"BROKEN at system event {written[1].pk}" in capsys.readouterr().out
    call_command("verify_audit", "--tenant", tenant.slug)  # the tenant's chain is untouched
    assert capsys.readouterr().out.strip() == "OK: 1 events checked"


@pytest.mark.django_db
def test_the_system_chain_is_pruned_after_a_checkpoint(tenant):
    old = [record(AuditEvent.Action.BACKUP_CREATED) for _ in range(3)]
    with activate(tenant):
        kept_tenant_event = record(AuditEvent.Action.SETTINGS)
    cutoff = timezone.now()
    kept = record(AuditEvent.Action.BACKUP_CREATED)
    with activate(tenant, process="tests"):  # an active tenant does not redirect the system checkpoint
        assert prune(None, before=cutoff) == 3
    assert [event.action for event in system_chain()] == ["backup_created", "checkpoint"]
    assert system_chain()[0].pk == kept.pk and not SystemEvent.objects.filter(pk=old[0].pk).exists()
    assert AuditEvent.objects.filter(pk=kept_tenant_event.pk).exists()
    assert AuditEvent.objects.filter(tenant=tenant, action="checkpoint").count() == 0
    report = verify_chain(None)
    assert report.ok and report.checked == 2


@pytest.mark.django_db
def test_retention_prunes_every_tenant_chain_and_the_system_chain(settings, tenant):
    settings.AUDIT_RETENTION_DAYS = 1
    record(AuditEvent.Action.BACKUP_CREATED)
    record(AuditEvent.Action.SETTINGS, tenant=tenant)
    later = timezone.now() + timezone.timedelta(days=2)
    assert prune_expired(process="tests", now=later, acting_user=None) == {tenant.slug: 1, "(system)": 1}
    assert SystemEvent.objects.get().process == "tests" and verify_chain(None).ok


# -- the migration that moved the tenant-less events -----------------------------------

BEFORE = [("audit", "0003_share_actions")]
COLUMNS = [field.column for field in SystemEvent._meta.concrete_fields]


def migrate(targets) -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(targets or executor.loader.graph.leaf_nodes())


def old_style_event(tenant_id, seq, prev_hash, event_id, action):
    """A row as record() wrote it before system events had a table of their own."""
    event = SystemEvent(
        id=event_id, seq=seq, created_at=timezone.now(), process="tests", action=action, prev_hash=prev_hash
    )
    if tenant_id:
        event = AuditEvent(tenant_id=tenant_id, **{c: getattr(event, c) for c in COLUMNS})
    event.hash = chain_hash(prev_hash, event)
    return event


@pytest.mark.django_db(transaction=True)
def test_the_migration_moves_tenantless_events_with_their_chain_and_back():
    tenant = make_tenant("movers")
    try:
        migrate(BEFORE)
        first = old_style_event(None, 1, GENESIS, 901, "backup_created")
        second = old_style_event(None, 2, first.hash, 905, "backup_verified")
        mine = old_style_event(tenant.pk, 1, GENESIS, 903, "settings")
        with connection.cursor() as cursor:
            for event in (first, mine, second):
                values = [getattr(event, "tenant_id", None)] + [
                    getattr(event, c) if c != "detail" else "{}" for c in COLUMNS
                ]
                cursor.execute(
                    f"INSERT INTO audit_auditevent (tenant_id, {', '.join(COLUMNS)}) "
                    f"VALUES ({', '.join(['%s'] * len(values))})",
                    values,
                )
    finally:
        migrate(None)

    assert [(e.pk, e.seq, e.hash) for e in system_chain()] == [(901, 1, first.hash), (905, 2, second.hash)]
    assert list(AuditEvent.objects.values_list("pk", "tenant_id")) == [(903, tenant.pk)]
    assert verify_chain(None).ok and verify_chain(tenant.pk).ok
    third = record(AuditEvent.Action.BACKUP_CREATED)
    assert third.pk > 905 and (third.seq, third.prev_hash) == (3, second.hash)

    migrate(BEFORE)  # and back: the system events return to audit_auditevent without a tenant
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT id, seq FROM audit_auditevent WHERE tenant_id IS NULL ORDER BY seq")
            assert cursor.fetchall() == [(901, 1), (905, 2), (third.pk, 3)]
    finally:
        migrate(None)
