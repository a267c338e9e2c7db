"""Persistent connections (CONN_MAX_AGE with Django's CONN_HEALTH_CHECKS): kept between requests,
and a connection the server ended is replaced before the next request uses it."""

import select
import time

import pytest
from django.db import connection, connections

pytestmark = pytest.mark.django_db(transaction=True)


def backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def new_request():
    # What Django does when a request starts (the test client skips it).
    connection.health_check_done = False


def test_a_healthy_connection_is_kept_between_requests():
    assert connection.health_check_enabled
    pid = backend_pid()
    for _ in range(3):
        new_request()
        assert backend_pid() == pid


def test_a_connection_the_server_ended_is_replaced_transparently():
    pid = backend_pid()
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    finally:
        other.close()
    deadline = time.monotonic() + 5
    while not select.select([connection.connection.fileno()], [], [], 0.05)[0]:
        assert time.monotonic() < deadline, "the server did not end the session"
    new_request()
    assert backend_pid() != pid
