"""Session-level PostgreSQL advisory locks, (namespace, key) pairs: who works on a long run.

A worker holds its run's lock on its own connection until the run ends; a worker that dies
takes its connection, and the lock, with it. So a "running" row whose lock anyone can take
belongs to a dead worker, and a lock held shows a live one.
"""

from django.db import connection


def try_lock(key: tuple[int, int]) -> bool:
    """Take the lock for this session (False: another session holds it)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", list(key))
        return cursor.fetchone()[0]


def unlock(key: tuple[int, int]) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_unlock(%s, %s)", list(key))


def is_held(key: tuple[int, int]) -> bool:
    """Whether a live session of this database holds the lock (read from pg_locks; takes nothing)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND classid = %s AND objid = %s AND objsubid = 2)",
            list(key),
        )
        return cursor.fetchone()[0]
