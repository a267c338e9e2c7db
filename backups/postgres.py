"""PostgreSQL plumbing for backups: binaries, connection arguments, tables, counts, scratch databases."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import threading
import zlib
from contextlib import ExitStack, contextmanager
from pathlib import Path

import psycopg2
from django.conf import settings
from django.db import connection

from crm.tenancy.rls import system_database

TENANT_COLUMN = "tenant_id"


class BackupError(Exception):
    """A readable reason a backup, drill or restore failed."""


def binary(name: str) -> str:
    """pg_dump / pg_restore from PG_BIN_DIR (it must match the server), else from PATH."""
    if settings.PG_BIN_DIR:
        path = Path(settings.PG_BIN_DIR) / name
        if not path.exists():
            raise BackupError(f"{name} not found in PG_BIN_DIR={settings.PG_BIN_DIR}")
        return str(path)
    found = shutil.which(name)
    if not found:
        raise BackupError(f"{name} not found: set PG_BIN_DIR to the server's bin directory")
    return found


def connection_args(database: str | None = None) -> tuple[list[str], dict[str, str]]:
    """libpq command-line arguments and environment for the default database (or another one),
    as the owner role (SYSTEM_DATABASE_URL): a dump and a restore see every company (docs/rls.md)."""
    db = system_database()
    args = ["--no-password"]
    if db.get("HOST"):
        args += ["-h", db["HOST"]]
    if db.get("PORT"):
        args += ["-p", str(db["PORT"])]
    if db.get("USER"):
        args += ["-U", db["USER"]]
    args += ["-d", database or db["NAME"]]
    env = {**os.environ, "PGPASSWORD": db.get("PASSWORD") or "", "PGCONNECT_TIMEOUT": "10"}
    return args, env


def run(command: list[str], *, env=None, timeout=None) -> subprocess.CompletedProcess:
    """Run a client binary; a non-zero exit is a BackupError carrying its stderr."""
    try:
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise BackupError(f"{Path(command[0]).name}: {error}") from error
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise BackupError(f"{Path(command[0]).name} exited with {result.returncode}: {' '.join(detail[-3:])}")
    return result


def version_of(name: str) -> str:
    return run([binary(name), "--version"]).stdout.strip()


def server_version() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return cursor.fetchone()[0]


def applied_migrations(cursor=None) -> list[str]:
    def fetch(cur):
        cur.execute("SELECT app || '.' || name FROM django_migrations ORDER BY app, name")
        return [row[0] for row in cur.fetchall()]

    if cursor is not None:
        return fetch(cursor)
    with connection.cursor() as cur:
        return fetch(cur)


def tables(cursor) -> dict[str, bool]:
    """{table: has a tenant_id column} for every ordinary table in the public schema."""
    cursor.execute(
        """
        SELECT c.relname, EXISTS (
            SELECT 1 FROM pg_attribute a
            WHERE a.attrelid = c.oid AND a.attname = %s AND NOT a.attisdropped
        )
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
        ORDER BY c.relname
        """,
        [TENANT_COLUMN],
    )
    return dict(cursor.fetchall())


def row_counts(cursor) -> dict[str, dict[str, int]]:
    """{table: {tenant id or "*": rows}}: per tenant where the table has tenant_id, else in total."""
    counts: dict[str, dict[str, int]] = {}
    quote = connection.ops.quote_name
    for table, tenant_owned in tables(cursor).items():
        if tenant_owned:
            cursor.execute(f"SELECT {TENANT_COLUMN}, count(*) FROM {quote(table)} GROUP BY 1 ORDER BY 1")
            counts[table] = {str(tenant): total for tenant, total in cursor.fetchall()}
        else:
            cursor.execute(f"SELECT count(*) FROM {quote(table)}")
            counts[table] = {"*": cursor.fetchone()[0]}
    return counts


def connect(database: str):
    """A separate psycopg2 connection to `database` on the same server (autocommit off), as the owner role."""
    db = system_database()
    return psycopg2.connect(
        dbname=database,
        user=db.get("USER") or None,
        password=db.get("PASSWORD") or None,
        host=db.get("HOST") or None,
        port=db.get("PORT") or None,
        connect_timeout=10,
    )


def _admin(sql: str) -> None:
    admin = connect("postgres")
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            cursor.execute(sql)
    finally:
        admin.close()


def database_exists(name: str) -> bool:
    admin = connect("postgres")
    try:
        with admin.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            return cursor.fetchone() is not None
    finally:
        admin.close()


def create_database(name: str) -> None:
    _admin(f"CREATE DATABASE {connection.ops.quote_name(name)} TEMPLATE template0")


def drop_database(name: str) -> None:
    _admin(f"DROP DATABASE IF EXISTS {connection.ops.quote_name(name)} WITH (FORCE)")


def restore_into(dump: Path, database: str, *, jobs: int = 2, tables: list[str] | None = None) -> None:
    """pg_restore a custom-format dump into an existing, empty database.

    With `tables`: only those tables' definitions and rows, without their indexes and
    constraints (pg_restore's post-data section), for a scratch database that is only read
    from, once per table: building indexes nobody uses was half of a company restore.
    """
    args, env = connection_args(database)
    only = ["--section=pre-data", "--section=data", *(f"--table={table}" for table in tables)] if tables else []
    run(
        [
            binary("pg_restore"),
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            f"--jobs={jobs}",
            *only,
            *args,
            str(dump),
        ],
        env=env,
    )


# -- claims: what a live process owns outside the database ------------------------------
#
# A scratch database, or a decrypted copy of a backup, lives only while its process does.
# The process holds a session-level advisory lock named after it, taken before the thing
# exists, in the server's "postgres" database (advisory locks are per database, and
# scratch databases are shared by every database on the server). A dead process's
# session ends and so does its lock: backups.sweep removes what has no holder.

CLAIM_NAMESPACE = 0x53435243  # "SCRC"
SCRATCH_NAME = re.compile(r"^crm_(drill|restore)_[0-9a-f]{16}$")


def _claim_key(name: str) -> int:
    return zlib.crc32(name.encode()) - 2**31  # a signed 32-bit int; a collision only makes the sweep wait


@contextmanager
def claim(name: str):
    """Hold `name`'s claim for the duration of the block."""
    session = connect("postgres")
    session.autocommit = True
    try:
        with session.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s, %s)", [CLAIM_NAMESPACE, _claim_key(name)])
        yield
    finally:
        session.close()


@contextmanager
def unclaimed(names):
    """The subset of `names` nobody claims, claimed by this block while it runs (so nobody can take them)."""
    session = connect("postgres")
    session.autocommit = True
    free = []
    try:
        with session.cursor() as cursor:
            for name in names:
                cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [CLAIM_NAMESPACE, _claim_key(name)])
                if cursor.fetchone()[0]:
                    free.append(name)
        yield free
    finally:
        session.close()


def scratch_databases() -> list[str]:
    """The scratch databases on the server (of every process, live or dead)."""
    admin = connect("postgres")
    try:
        with admin.cursor() as cursor:
            cursor.execute("SELECT datname FROM pg_database ORDER BY 1")
            return [name for (name,) in cursor.fetchall() if SCRATCH_NAME.match(name)]
    finally:
        admin.close()


def drop_dead_scratch_databases() -> list[str]:
    """Drop the scratch databases whose process is gone; returns their names."""
    with unclaimed(scratch_databases()) as dead:
        for name in dead:
            drop_database(name)
    return dead


@contextmanager
def scratch_database(dump: Path, prefix: str, *, tables: list[str] | None = None, drop_in_background: bool = False):
    """A throw-away database restored from `dump` (only `tables`, unindexed, if given: see
    restore_into), dropped afterwards whatever happens (or by the sweep, if this process dies first).

    `drop_in_background`: the block's caller does not wait for the drop (DROP DATABASE waits for a
    checkpoint: seconds on a busy server); a thread drops it, holding the claim until it is gone.
    """
    name = f"{prefix}_{secrets.token_hex(8)}"
    cleanup = ExitStack()
    cleanup.enter_context(claim(name))
    cleanup.callback(drop_database, name)  # before the claim ends
    try:
        create_database(name)
        restore_into(dump, name, tables=tables)
        yield name
    finally:
        if drop_in_background:
            threading.Thread(target=cleanup.close, name=f"drop {name}", daemon=True).start()
        else:
            cleanup.close()
