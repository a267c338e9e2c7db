"""The audit log cannot be emptied quietly.

TRUNCATE is refused like UPDATE and DELETE. Each chain's head (its last event's seq,
id and hash) is kept outside the table it vouches for: in every backup manifest, in
the nightly checkpoint's own table and in a file next to the backups. verify_audit
compares every chain with them, so events missing from the end and a chain removed
whole are reported, while sanctioned pruning (which keeps the chain's end) is not.
"""

import io
import json
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from audit.actions import prune_expired
from audit.chain import prune, verify_chain
from audit.events import record
from audit.heads import HEADS_FILE, chain_heads
from audit.models import AuditEvent, ChainHead, SystemEvent
from audit.tasks import checkpoint_chain_heads
from backups.dump import take_backup
from backups.models import Backup
from tests.factories import make_tenant

pytestmark = pytest.mark.django_db


def verify(*args) -> tuple[int, list[str]]:
    """verify_audit's exit code and output lines."""
    out = io.StringIO()
    try:
        call_command("verify_audit", *args, stdout=out)
        code = 0
    except SystemExit as exit:
        code = exit.code
    return code, out.getvalue().strip().splitlines()


def checkpoint() -> dict:
    """The nightly checkpoint, as Celery beat runs it."""
    return checkpoint_chain_heads.apply().get()


def events_of(tenant, count: int) -> list:
    return [record(AuditEvent.Action.SETTINGS, tenant=tenant, count=n) for n in range(count)]


def as_owner(table: str, statement: str, params=()):
    """What an attacker with the table owner's rights can do: switch the append-only trigger off and write."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # as in a session of its own: no checks pending
        cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only")
        cursor.execute(statement, params)
        cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER {table}_append_only")


# -- TRUNCATE ----------------------------------------------------------------------------------


def test_truncate_is_refused_on_the_event_tables_and_the_chain_heads(tenant):
    events_of(tenant, 2)
    record(AuditEvent.Action.BACKUP_CREATED)
    checkpoint()
    tables = {"audit_auditevent": AuditEvent, "audit_systemevent": SystemEvent, "audit_chainhead": ChainHead}
    before = {table: model.objects.count() for table, model in tables.items()}
    assert all(before.values())
    with connection.cursor() as cursor:  # as if in a transaction of its own: no foreign key checks pending
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    for table in tables:
        for statement in (f"TRUNCATE {table}", f"TRUNCATE {table} RESTART IDENTITY CASCADE"):
            refused = pytest.raises(DatabaseError, match="append-only: TRUNCATE refused")
            with refused, transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(statement)
    assert {table: model.objects.count() for table, model in tables.items()} == before


def test_the_chain_heads_refuse_update_and_delete(tenant):
    events_of(tenant, 1)
    checkpoint()
    head = ChainHead.objects.get()
    for statement in ("UPDATE audit_chainhead SET seq = 99 WHERE id = %s", "DELETE FROM audit_chainhead WHERE id = %s"):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, [head.pk])
    assert ChainHead.objects.get().seq == 1


# -- where the heads are kept ------------------------------------------------------------------


def test_chain_heads_name_the_last_event_of_every_chain(tenant, other_tenant):
    last = events_of(tenant, 3)[-1]
    system = record(AuditEvent.Action.BACKUP_CREATED)
    assert chain_heads() == {
        str(tenant.pk): {"seq": 3, "id": last.pk, "hash": last.hash, "created_at": last.created_at.isoformat()},
        "system": {"seq": 1, "id": system.pk, "hash": system.hash, "created_at": system.created_at.isoformat()},
    }  # other_tenant has no events, so no chain yet


def test_the_nightly_checkpoint_keeps_heads_in_their_own_table_and_next_to_the_backups(tenant, other_tenant):
    events_of(tenant, 2)
    events_of(other_tenant, 1)
    assert checkpoint() == {"recorded": 2, "broken": []}
    heads = chain_heads()
    rows = {row.chain: (row.seq, row.event_id, row.hash) for row in ChainHead.objects.all()}
    assert rows == {chain: (head["seq"], head["id"], head["hash"]) for chain, head in heads.items()}
    on_disk = json.loads((settings.BACKUP_DIR / HEADS_FILE).read_text())["audit_heads"]
    assert {chain: head["hash"] for chain, head in on_disk.items()} == {c: h["hash"] for c, h in heads.items()}

    assert checkpoint() == {"recorded": 0, "broken": []}  # nothing new: no new rows
    events_of(tenant, 1)
    assert checkpoint() == {"recorded": 1, "broken": []}
    assert list(ChainHead.objects.filter(chain=str(tenant.pk)).values_list("seq", flat=True)) == [3, 2]


def test_beat_runs_the_nightly_checkpoint_after_the_audit_retention():
    schedule = {entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    checkpoint_at, prune_at = schedule["audit.tasks.checkpoint_chain_heads"], schedule["audit.tasks.prune_audit_log"]
    assert checkpoint_at.hour == prune_at.hour == {4} and min(checkpoint_at.minute) > max(prune_at.minute)


# -- what verify_audit now sees ----------------------------------------------------------------


def test_events_deleted_from_the_end_are_reported(tenant, other_tenant):
    events_of(tenant, 5)
    events_of(other_tenant, 2)
    checkpoint()
    assert verify() == (0, ["OK: 7 events checked, 4 recorded chain heads matched"])
    as_owner("audit_auditevent", "DELETE FROM audit_auditevent WHERE tenant_id = %s AND seq > 3", [tenant.pk])
    assert verify_chain(tenant.pk).ok  # what is left is a valid chain: only the heads can tell
    code, lines = verify()
    assert code == 1
    assert lines == [
        f"BROKEN chain of tenant {tenant.slug}: it ends at seq 3, but {HEADS_FILE} recorded its head at seq 5 "
        "(events missing from the end)"
    ]
    assert verify("--tenant", other_tenant.slug) == (0, ["OK: 2 events checked, 2 recorded chain heads matched"])


def test_a_company_chain_removed_entirely_is_reported(tenant, other_tenant):
    events_of(tenant, 2)
    events_of(other_tenant, 4)
    checkpoint()
    as_owner("audit_auditevent", "DELETE FROM audit_auditevent WHERE tenant_id = %s", [other_tenant.pk])
    code, lines = verify()
    assert code == 1
    assert lines == [
        f"BROKEN chain of tenant {other_tenant.slug}: it has no events, but {HEADS_FILE} recorded its head at seq 4 "
        "(the chain was removed)"
    ]
    code, lines = verify("--tenant", other_tenant.slug)
    assert code == 1 and "(the chain was removed)" in lines[0]


def test_the_system_chain_removed_entirely_is_reported(tenant):
    record(AuditEvent.Action.BACKUP_CREATED)
    checkpoint()
    as_owner("audit_systemevent", "DELETE FROM audit_systemevent")
    code, lines = verify("--system")
    assert code == 1
    assert lines == [
        f"BROKEN the system chain: it has no events, but {HEADS_FILE} recorded its head at seq 1 (the chain was removed)"
    ]


def test_a_chain_rewritten_from_a_recorded_head_on_is_reported(tenant):
    events_of(tenant, 3)
    checkpoint()
    as_owner("audit_auditevent", "DELETE FROM audit_auditevent WHERE tenant_id = %s AND seq = 3", [tenant.pk])
    events_of(tenant, 2)  # the chain grows past the head again, through another event 3
    assert verify_chain(tenant.pk).ok
    code, lines = verify()
    assert code == 1
    assert lines == [
        f"BROKEN chain of tenant {tenant.slug}: the event at seq 3 is not the one {HEADS_FILE} recorded "
        "(the chain was rewritten)"
    ]


def test_an_attacker_who_also_rewrites_the_head_table_is_caught_by_the_file_and_the_heads_do_not_move(tenant):
    events_of(tenant, 4)
    checkpoint()
    as_owner("audit_auditevent", "DELETE FROM audit_auditevent WHERE tenant_id = %s AND seq > 2", [tenant.pk])
    as_owner("audit_chainhead", "DELETE FROM audit_chainhead")
    code, lines = verify()
    assert code == 1 and lines[0].endswith(f"but {HEADS_FILE} recorded its head at seq 4 (events missing from the end)")

    result = checkpoint()  # the next night: the broken chain's recorded head does not follow it down
    assert result["recorded"] == 0 and len(result["broken"]) == 1
    assert not ChainHead.objects.exists()
    on_disk = json.loads((settings.BACKUP_DIR / HEADS_FILE).read_text())["audit_heads"]
    assert on_disk[str(tenant.pk)]["seq"] == 4
    assert verify()[0] == 1


def test_the_head_table_alone_catches_a_truncated_chain(tenant):
    events_of(tenant, 3)
    checkpoint()
    (settings.BACKUP_DIR / HEADS_FILE).unlink()  # e.g. a host without the backup volume
    as_owner("audit_auditevent", "DELETE FROM audit_auditevent WHERE tenant_id = %s AND seq = 3", [tenant.pk])
    code, lines = verify()
    assert code == 1
    assert "but audit_chainhead" in lines[0] and lines[0].endswith("(events missing from the end)")


def test_an_unreadable_heads_file_is_reported(tenant):
    events_of(tenant, 1)
    checkpoint()
    (settings.BACKUP_DIR / HEADS_FILE).write_text('{"audit_heads": {"1": ')
    code, lines = verify()
    assert code == 1 and lines[0].startswith(f"BROKEN: cannot read the chain heads in {HEADS_FILE}:")


# -- what must not alarm -----------------------------------------------------------------------


def test_an_untouched_chain_and_a_chain_pruned_behind_its_head_verify_clean(tenant, other_tenant):
    written = events_of(tenant, 3)
    events_of(other_tenant, 2)
    checkpoint()
    events_of(tenant, 2)
    assert prune(tenant, before=written[2].created_at) == 2  # seq 1-2 go, the recorded head (3) stays
    assert verify() == (0, ["OK: 6 events checked, 4 recorded chain heads matched"])
    checkpoint()
    assert verify() == (0, ["OK: 6 events checked, 4 recorded chain heads matched"])


def test_a_quiet_chain_pruned_by_retention_with_its_head_verifies_clean(tenant):
    long_ago = timezone.now() - timedelta(days=settings.AUDIT_RETENTION_DAYS + 30)
    with time_machine.travel(long_ago, tick=False):
        events_of(tenant, 3)
        checkpoint()  # the head (seq 3) is older than the retention period by the time it is pruned
    assert prune_expired(process="tests", acting_user=None)[tenant.slug] == 3
    assert verify("--tenant", tenant.slug) == (0, ["OK: 1 events checked, 2 recorded chain heads matched"])
    checkpoint()
    assert verify("--tenant", tenant.slug) == (0, ["OK: 1 events checked, 2 recorded chain heads matched"])


def test_a_prune_of_a_recorded_head_younger_than_the_retention_period_is_reported(tenant):
    """A forged checkpoint (or a prune that ignored retention) cannot take a recent head away."""
    events_of(tenant, 3)
    checkpoint()
    prune(tenant, before=timezone.now() + timedelta(seconds=1))
    assert verify_chain(tenant.pk).ok
    code, lines = verify()
    assert code == 1
    assert lines == [
        f"BROKEN chain of tenant {tenant.slug}: a checkpoint pruned seq 3, which {HEADS_FILE} recorded, "
        "before the retention period was over (events missing)"
    ]


# -- backups -----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_every_backup_manifest_records_the_heads_and_verify_audit_compares_with_them():
    tenant = make_tenant("gamma")
    events_of(tenant, 4)
    tenant_head = chain_heads()[str(tenant.pk)]
    backup = take_backup()
    assert backup.status == Backup.Status.GOOD, backup.error
    manifest_file = Path(backup.path).with_suffix(".json")
    manifest = json.loads(manifest_file.read_text())
    assert manifest["audit_heads"][str(tenant.pk)] == tenant_head
    assert backup.manifest["audit_heads"] == manifest["audit_heads"]
    assert verify("--tenant", tenant.slug) == (
        0,
        [f"OK: {tenant_head['seq']} events checked, 1 recorded chain heads matched"],
    )

    as_owner("audit_auditevent", "DELETE FROM audit_auditevent WHERE tenant_id = %s AND seq > 2", [tenant.pk])
    code, lines = verify()
    assert code == 1
    assert lines == [
        f"BROKEN chain of tenant gamma: it ends at seq 2, but {manifest_file.name} recorded its head at seq "
        f"{tenant_head['seq']} (events missing from the end)"
    ]
