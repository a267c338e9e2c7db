"""Move the events without a tenant into audit_systemevent, chain intact.

Their seq, prev_hash and hash move unchanged (an event without a tenant hashes the
same in either table), and so do their ids. The DELETE from audit_auditevent runs
under the switch the append-only trigger honours, as audit.chain.prune() does.
"""

from django.db import migrations

COLUMNS = (
    "id, seq, created_at, actor_id, actor_username, process, action, object_type, object_id, "
    "batch, count, request_id, ip_address, user_agent, detail, prev_hash, hash"
)

RESET_SEQUENCE = """
SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE((SELECT max(id) FROM {table}), 0) + 1, false);
"""

MOVE = f"""
INSERT INTO audit_systemevent ({COLUMNS})
    SELECT {COLUMNS} FROM audit_auditevent WHERE tenant_id IS NULL ORDER BY seq;
{RESET_SEQUENCE.format(table="audit_systemevent")}
SET LOCAL crm.audit_prune = 'on';
DELETE FROM audit_auditevent WHERE tenant_id IS NULL;
SET LOCAL crm.audit_prune = 'off';
"""

MOVE_BACK = f"""
INSERT INTO audit_auditevent (tenant_id, {COLUMNS})
    SELECT NULL, {COLUMNS} FROM audit_systemevent ORDER BY seq;
{RESET_SEQUENCE.format(table="audit_auditevent")}
SET LOCAL crm.audit_prune = 'on';
DELETE FROM audit_systemevent;
SET LOCAL crm.audit_prune = 'off';
"""


class Migration(migrations.Migration):
    dependencies = [("audit", "0004_system_events")]

    operations = [migrations.RunSQL(MOVE, MOVE_BACK)]
