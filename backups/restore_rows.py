"""Moving one company's rows from a restored backup (a scratch database) into the live one.

What a restore brings back is data: the record types of the registry and their
history. Access is never rolled back: users, memberships, roles, API tokens,
sessions, purge grants, customer shares and the company's settings stay as they
are now (they are simply not among restored_models()).

Each table's rows are COPYed from the scratch database into a temporary stage
shaped like the live table; references to users who no longer exist become NULL
in the stage; then a handful of set-based statements merge the stage into the
live table. Nothing is deleted that the backup lacks: those records go to the
recycle bin as one batch (set_aside). No statement loops over rows in Python.
"""

from __future__ import annotations

import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models.expressions import RawSQL

from backups import postgres
from crm.history.bulk import write_bulk_history
from crm.records.models import SoftDeleteModel
from crm.records.registry import cascade_order, content_models

SPOOL_IN_MEMORY = 64 * 1024 * 1024  # bytes of COPY data held in memory before spilling to a temp file


def restored_models() -> list[type]:
    """The models a company restore brings back: record types (parents first), their contents
    (an attachment's bytes), then their history."""
    records = list(cascade_order())
    return records + content_models() + [model.history.model for model in records if hasattr(model, "history")]


@contextmanager
def scratch_cursor(database: str):
    """A cursor on the scratch database the backup was restored into."""
    source = postgres.connect(database)
    try:
        with source.cursor() as cursor:
            yield cursor
    finally:
        source.close()


def quote(name: str) -> str:
    return connection.ops.quote_name(name)


@dataclass
class Stage:
    """The backup's rows of one table, staged in a temporary table of the live transaction."""

    model: type
    name: str
    columns: list[str]
    rows: int = 0
    users_missing: int = 0

    @property
    def table(self) -> str:
        return self.model._meta.db_table

    @property
    def key(self) -> str:
        return self.model._meta.pk.column

    @property
    def column_list(self) -> str:
        return ", ".join(quote(column) for column in self.columns)


def stage(source_cursor, live_cursor, model, where: str, *, fallback_user_id=None) -> Stage:
    """COPY the rows of `model` matching `where` from the scratch database into a temporary table.

    Must run inside the live transaction (the stage is dropped at its end). References to
    users who no longer exist become NULL (or `fallback_user_id` where the column is NOT NULL).
    """
    table = model._meta.db_table
    name = f"restore_stage_{table}"[:63]
    live_cursor.execute(f"CREATE TEMPORARY TABLE {quote(name)} (LIKE {quote(table)}) ON COMMIT DROP")
    columns = [column.column for column in model._meta.concrete_fields]
    staged = Stage(model, name, columns)
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY) as buffer:
        source_cursor.copy_expert(
            f"COPY (SELECT {staged.column_list} FROM {quote(table)} WHERE {where}) TO STDOUT", buffer
        )
        buffer.seek(0)
        live_cursor.copy_expert(f"COPY {quote(name)} ({staged.column_list}) FROM STDIN", buffer)
        staged.rows = live_cursor.rowcount
    # Autovacuum never analyses temporary tables: without statistics the planner guesses
    # the joins against the live table (nested loops over millions of rows).
    live_cursor.execute(f"ANALYZE {quote(name)}")
    staged.users_missing = _forget_missing_users(live_cursor, staged, fallback_user_id)
    return staged


def _forget_missing_users(cursor, staged: Stage, fallback_user_id) -> int:
    """References to users deleted since the backup: NULL, or `fallback_user_id` for a NOT NULL column."""
    user_model = get_user_model()
    users = quote(user_model._meta.db_table)
    forgotten = 0
    for field_ in staged.model._meta.concrete_fields:
        if not (field_.is_relation and field_.related_model is user_model):
            continue
        column = quote(field_.column)
        replacement = "NULL" if field_.null else "%s"
        cursor.execute(
            f"UPDATE {quote(staged.name)} AS s SET {column} = {replacement} WHERE s.{column} IS NOT NULL "
            f"AND NOT EXISTS (SELECT 1 FROM {users} AS u WHERE u.id = s.{column})",
            [] if field_.null else [fallback_user_id],
        )
        forgotten += cursor.rowcount
    return forgotten


@dataclass
class SetAside:
    """The live records a company restore moved to the recycle bin because the backup lacks them."""

    batch: object
    deleted_at: object
    deleted_by_id: int | None
    reason: str
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def versioned(model) -> bool:
    """A record table (not a history table, whose rows keep the version they recorded)."""
    return issubclass(model, SoftDeleteModel)


def set_aside(cursor, staged: Stage, tenant_id: int, aside: SetAside) -> int:
    """Alive records of the company that are not in the backup -> the recycle bin, in `aside.batch`."""
    table = quote(staged.table)
    bump = ", version = t.version + 1" if versioned(staged.model) else ""
    cursor.execute(
        f"UPDATE {table} AS t SET deleted_at = %s, deleted_by_id = %s, deletion_batch = %s{bump} "
        f"WHERE t.tenant_id = %s AND t.deleted_at IS NULL "
        f"AND NOT EXISTS (SELECT 1 FROM {quote(staged.name)} AS s WHERE s.{quote(staged.key)} = t.{quote(staged.key)})",
        [aside.deleted_at, aside.deleted_by_id, aside.batch, tenant_id],
    )
    if cursor.rowcount:
        aside.counts[staged.model._meta.model_name] = cursor.rowcount
        bin_rows = staged.model.all_objects.filter(tenant_id=tenant_id, deletion_batch=aside.batch)
        write_bulk_history(staged.model, bin_rows, "~", aside.reason)
    return cursor.rowcount


def replace(cursor, staged: Stage, tenant_id: int, reason: str) -> int:
    """Rows of the stage that differ from the live ones, or are missing there, replace them.

    Rows equal to the live ones are left alone (no write, no history row); each row
    written gets a history row with `reason`. Returns the number of rows written.
    """
    table, stage_name, key = quote(staged.table), quote(staged.name), quote(staged.key)
    cursor.execute(
        f"DELETE FROM {stage_name} AS s USING {table} AS t "
        f"WHERE t.tenant_id = %s AND t.{key} = s.{key} AND ROW(t.*) IS NOT DISTINCT FROM ROW(s.*)",
        [tenant_id],
    )
    if versioned(staged.model):  # a restored row is a new version: forms opened before cannot save over it
        cursor.execute(
            f"UPDATE {stage_name} AS s SET version = t.version + 1 FROM {table} AS t "
            f"WHERE t.tenant_id = %s AND t.{key} = s.{key}",
            [tenant_id],
        )
    cursor.execute(
        f"DELETE FROM {table} AS t USING {stage_name} AS s WHERE t.tenant_id = %s AND t.{key} = s.{key}",
        [tenant_id],
    )
    written = insert(cursor, staged)
    if written:
        changed = staged.model.all_objects.filter(
            tenant_id=tenant_id, pk__in=RawSQL(f"SELECT {key} FROM {stage_name}", ())
        )
        write_bulk_history(staged.model, changed, "~", reason)
    return written


def add_missing(cursor, staged: Stage, tenant_id: int) -> int:
    """History: the backup's rows the live table lacks are added; the live rows stay as they are."""
    table, stage_name, key = quote(staged.table), quote(staged.name), quote(staged.key)
    cursor.execute(
        f"INSERT INTO {table} ({staged.column_list}) SELECT {staged.column_list} FROM {stage_name} AS s "
        f"WHERE NOT EXISTS (SELECT 1 FROM {table} AS t WHERE t.tenant_id = %s AND t.{key} = s.{key})",
        [tenant_id],
    )
    return cursor.rowcount


def insert(cursor, staged: Stage) -> int:
    """Every row of the stage into the live table."""
    cursor.execute(
        f"INSERT INTO {quote(staged.table)} ({staged.column_list}) SELECT {staged.column_list} FROM {quote(staged.name)}"
    )
    return cursor.rowcount
