"""Row-level security: PostgreSQL's own wall between companies, behind the application's.

Every table with a `tenant_id` column (history, purge-permission and attachment tables
included) has RLS enabled and forced, and one policy, `tenant_wall`:

    tenant_id = NULLIF(current_setting('crm.tenant_id', true), '')::bigint

for reading (USING) and writing (WITH CHECK). The application connects as a role that is
neither superuser, nor BYPASSRLS, nor the tables' owner, so a query that forgets the
tenant filter sees the active company's rows only, and none when no company is active.

The setting follows the tenant context (crm.tenancy.context) by itself: an execute wrapper
on every connection sets `crm.tenant_id` (session level, `set_config(..., false)`) before
the first query after the active company changed, and again after a rollback undid it.
Requests, Celery tasks and commands need nothing of their own: they activate the context,
as they always did. docs/rls.md has the design and the measured cost.

Migrations, backups and restores run as the owner role (SYSTEM_DATABASE_URL), which bypasses
the wall; cross-company work in the application activates each company in turn.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.db import DatabaseError, connections

from crm.tenancy.context import current_tenant_or_none

SETTING = "crm.tenant_id"
POLICY = "tenant_wall"
WALL_MIGRATION = ("tenancy", "_row_level_security")  # app and name ending (numbers change at merges)
CONDITION = f"tenant_id = NULLIF(current_setting('{SETTING}', true), '')::bigint"

# Tables with a tenant_id that stay outside the wall, and why. They are the doors into a
# company: looked up before any company is active, by the person or key that opens them.
# None of them holds records (company restores never bring them back, docs/architecture.md).
EXEMPT = {
    "tenancy_membership": "signing in lists a person's companies before one is chosen",
    "tenancy_apitoken": "an API key is looked up by its digest before its company is known",
    "tenancy_invitation": "an invitation is accepted by its key, before its company is known",
    "backups_restorerun": "restores of the whole database have no company (tenant_id NULL)",
}

_TENANT_TABLES = """
SELECT c.relname
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
ORDER BY 1
"""
_WALLED = """
SELECT c.relname
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_policy p ON p.polrelid = c.oid AND p.polname = %s
WHERE n.nspname = current_schema() AND c.relrowsecurity AND c.relforcerowsecurity
"""


def tenant_tables(cursor) -> list[str]:
    """Every table of the schema with a tenant_id column that the wall must cover."""
    cursor.execute(_TENANT_TABLES)
    return [name for (name,) in cursor.fetchall() if name not in EXEMPT]


def unwalled_tables(cursor) -> list[str]:
    """Tables that should have the wall and do not (RLS off, not forced, or no policy)."""
    cursor.execute(_WALLED, [POLICY])
    walled = {name for (name,) in cursor.fetchall()}
    return [name for name in tenant_tables(cursor) if name not in walled]


def wall_statements(table: str) -> list[str]:
    quoted = '"' + table.replace('"', '""') + '"'
    return [
        f"ALTER TABLE {quoted} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {quoted} FORCE ROW LEVEL SECURITY",
        f"DROP POLICY IF EXISTS {POLICY} ON {quoted}",
        f"CREATE POLICY {POLICY} ON {quoted} USING ({CONDITION}) WITH CHECK ({CONDITION})",
    ]


def build_walls(cursor) -> list[str]:
    """Put the wall on every tenant table that lacks it; returns their names (idempotent)."""
    missing = unwalled_tables(cursor)
    for table in missing:
        for statement in wall_statements(table):
            cursor.execute(statement)
    return missing


def remove_walls(cursor) -> None:
    for table in tenant_tables(cursor):
        quoted = '"' + table.replace('"', '""') + '"'
        cursor.execute(f"DROP POLICY IF EXISTS {POLICY} ON {quoted}")
        cursor.execute(f"ALTER TABLE {quoted} NO FORCE ROW LEVEL SECURITY")
        cursor.execute(f"ALTER TABLE {quoted} DISABLE ROW LEVEL SECURITY")


def grant_app_role(cursor, role: str) -> bool:
    """Let `role` (the application's, DATABASE_APP_ROLE) read and write every table; False if no such role.

    Rights on rows only: no TRUNCATE, no REFERENCES, no ownership (the owner can switch RLS off).
    """
    cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s AND rolname <> current_user", [role])
    if cursor.fetchone() is None:
        return False
    quoted = '"' + role.replace('"', '""') + '"'
    cursor.execute(f"GRANT USAGE ON SCHEMA public TO {quoted}")
    cursor.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {quoted}")
    cursor.execute(f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {quoted}")
    return True


def after_migrate(sender, using="default", plan=None, **kwargs) -> None:
    """post_migrate: tables added by any later migration get the wall, and the app role its rights.

    Skipped for `flush` (which sends post_migrate without a plan) and on other databases.
    """
    if plan is None or connections[using].vendor != "postgresql":
        return
    from django.db.migrations.recorder import MigrationRecorder

    with connections[using].cursor() as cursor:
        applied = MigrationRecorder(connections[using]).applied_migrations()
        app, ending = WALL_MIGRATION
        if any(label == app and name.endswith(ending) for label, name in applied):
            build_walls(cursor)  # not when the migration that built the wall was just reversed
        grant_app_role(cursor, settings.DATABASE_APP_ROLE)


# -- carrying the company to the database -------------------------------------------------


class _Applied:
    """What a connection was last given. `savepoints`: None when set outside a transaction
    (it holds for the session); else the savepoints open when it was set, inside a transaction
    that a rollback of any of them, or of the transaction, undoes it with."""

    __slots__ = ("raw", "savepoints", "value")

    def __init__(self, raw, value, savepoints):
        self.raw, self.value, self.savepoints = raw, value, savepoints


IDLE = 0  # the driver's transaction status between transactions (psycopg2 and psycopg alike)


def _holds(connection, applied: _Applied | None) -> bool:
    if applied is None or applied.raw is not connection.connection:
        return False  # never set, or a new database connection since
    if applied.savepoints is None:
        return True
    # Set inside a transaction: trust it only while that very transaction is open (the driver
    # says IDLE before the first statement of the next one, committed or rolled back) and none
    # of the savepoints it was set in has ended since. Otherwise set it again: one statement.
    still_open = connection.in_atomic_block and connection.connection.info.transaction_status != IDLE
    savepoints = applied.savepoints
    return still_open and tuple(connection.savepoint_ids[: len(savepoints)]) == savepoints


# A block that writes for a company named explicitly rather than the active one (an audit
# event appended to another company's chain): the database follows it for that block only.
_explicit: ContextVar[str | None] = ContextVar("crm_rls_company", default=None)


@contextmanager
def company(tenant_id):
    """Let the database see and accept `tenant_id`'s rows in this block, whatever company is
    active (None: leave it as it is). The application's filters do not change."""
    if tenant_id is None:
        yield
        return
    token = _explicit.set(str(getattr(tenant_id, "pk", tenant_id)))
    try:
        yield
    finally:
        _explicit.reset(token)


def wanted_value() -> str:
    explicit = _explicit.get()
    if explicit is not None:
        return explicit
    tenant = current_tenant_or_none()
    return "" if tenant is None else str(tenant.pk)


def apply(connection, value: str) -> None:
    """Set crm.tenant_id on `connection` now (through a raw cursor: no wrapper, any cursor kind)."""
    connection.close_if_health_check_failed()  # as Django does before a cursor (CONN_HEALTH_CHECKS)
    connection.ensure_connection()
    with connection.wrap_database_errors, connection.connection.cursor() as cursor:
        cursor.execute("SELECT set_config(%s, %s, false)", [SETTING, value])
    savepoints = None
    if connection.in_atomic_block:
        savepoints = tuple(connection.savepoint_ids)
    elif not connection.get_autocommit():
        return  # a hand-managed transaction: do not trust it, set again before the next query
    connection.tenant_wall = _Applied(connection.connection, value, savepoints)


def sync(connection) -> None:
    """Make the connection's crm.tenant_id the active company's (no query when it already is)."""
    value = wanted_value()
    applied = getattr(connection, "tenant_wall", None)
    if not (_holds(connection, applied) and applied.value == value):
        apply(connection, value)


def follow() -> None:
    """A company was just activated: give it now to each open connection that is between
    transactions, where the setting holds for the session (one statement, only when the
    company changed). Without this the first statement of the next transaction would set
    it inside that transaction, and again in every transaction after it."""
    for connection in connections.all(initialized_only=True):
        if (
            connection.vendor == "postgresql"
            and connection.connection is not None
            and not connection.in_atomic_block
            and connection.get_autocommit()
        ):
            try:
                sync(connection)
            except DatabaseError:
                connection.tenant_wall = None  # a broken connection: the next statement reconnects and sets it


def wall_wrapper(execute, sql, params, many, context):
    """Django execute wrapper installed on every connection (crm.tenancy.apps)."""
    sync(context["connection"])
    return execute(sql, params, many, context)


def install(sender, connection, **kwargs) -> None:
    """connection_created: wrap the connection's queries (once per DatabaseWrapper)."""
    if connection.vendor == "postgresql" and wall_wrapper not in connection.execute_wrappers:
        connection.execute_wrappers.append(wall_wrapper)


def system_database() -> dict:
    """The default database's settings with the owner role's credentials (SYSTEM_DATABASE_URL):
    for pg_dump, pg_restore, scratch databases and other work that must see every company."""
    return {**settings.DATABASES["default"], **settings.SYSTEM_DATABASE}


_BYPASS = """
SELECT r.rolsuper, r.rolbypassrls,
       EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE n.nspname = current_schema() AND c.relowner = r.oid AND c.relkind = 'r')
FROM pg_roles r WHERE r.rolname = current_user
"""


def bypass_reasons(cursor) -> list[str]:
    """Why the connected role is not held by the wall ([] when it is)."""
    cursor.execute(_BYPASS)
    superuser, bypassrls, owner = cursor.fetchone()
    return [
        reason
        for reason, applies in (("superuser", superuser), ("BYPASSRLS", bypassrls), ("owns tables", owner))
        if applies
    ]


def check_role(app_configs=None, databases=None, **kwargs) -> list:
    """crm.W030 (a database check: `manage.py check --database default`, and migrate): the
    application's connection passes the wall. Expected when migrating as the owner; never for
    the running application (docs/rls.md, "Roles")."""
    from django.core import checks

    if not databases or "default" not in databases or connections["default"].vendor != "postgresql":
        return []
    with connections["default"].cursor() as cursor:
        reasons = bypass_reasons(cursor)
        cursor.execute("SELECT current_user")
        (user,) = cursor.fetchone()
    if not reasons:
        return []
    return [
        checks.Warning(
            f"The database role {user!r} is not held by row-level security ({', '.join(reasons)}): "
            "only the application's filters keep companies apart.",
            hint="Connect the application as a role without SUPERUSER or BYPASSRLS that owns no table "
            "(DATABASE_URL), and migrate, back up and restore as the owner (SYSTEM_DATABASE_URL); docs/rls.md.",
            id="crm.W030",
        )
    ]
