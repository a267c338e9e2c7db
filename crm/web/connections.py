"""A kept database connection the server ended is replaced before a request uses it, without a round trip.

Django's own check (CONN_HEALTH_CHECKS) sends `SELECT 1` before the first query of
every request: a round trip on each API call and page, a fourth of an API list
call's. A server that ends a session (a restart, pg_terminate_backend,
idle_session_timeout, a crash) says so or closes the socket, so the socket turns
readable; a healthy idle connection has nothing to read. So at the start of each
request (Django's `request_started` signal) and of each Celery task (`task_prerun`,
where Celery's Django fixup has Django check too) the socket is polled without waiting
(psycopg2's `fileno()`), and a connection that has something to say, or that the
driver knows is closed, is closed with Django's `connection.close()`: the request's
first query opens a fresh one. A connection in a transaction is left alone.

A peer that vanished without a word (a host losing power) is noticed by the next
query, as Django's `SELECT 1` would notice it: both wait for the network to give up.
Everything else about kept connections (CONN_MAX_AGE, closing after errors) is Django's.
"""

from __future__ import annotations

import select

from django.db import connections, transaction


def close_ended_connections(**kwargs) -> None:
    for connection in connections.all(initialized_only=True):
        raw = connection.connection
        if raw is None or not transaction.get_autocommit(connection.alias):
            continue
        if raw.closed or _has_spoken(raw):
            connection.close()


def _has_spoken(raw) -> bool:
    try:
        readable, _written, _errors = select.select([raw.fileno()], [], [], 0)
    except (OSError, ValueError):
        return True  # no usable socket: closing is the safe answer
    return bool(readable)
