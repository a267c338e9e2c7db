"""Persistent connections (CONN_MAX_AGE): kept between requests, and a connection the server ended
is replaced before the next request (or Celery task) uses it, without a `SELECT 1` round trip
(crm/web/connections.py)."""

import select
import time

import pytest
from celery.signals import task_prerun
from django.core.signals import request_started
from django.db import connection, connections

pytestmark = pytest.mark.django_db(transaction=True)


def backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def statements_sent(during) -> list[str]:
    sent = []
    with connection.execute_wrapper(lambda execute, sql, *args: sent.append(sql) or execute(sql, *args)):
        during()
    return sent


def new_request():
    # What Django sends when a request starts (the test client does not send it).
    request_started.send(sender=__name__)


def end_session(pid) -> None:
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    finally:
        other.close()
    deadline = time.monotonic() + 5
    while not select.select([connection.connection.fileno()], [], [], 0.05)[0]:
        assert time.monotonic() < deadline, "the server did not end the session"


def test_a_healthy_connection_is_kept_between_requests_without_a_round_trip():
    pid = backend_pid()
    for _ in range(3):
        assert statements_sent(new_request) == []
        assert backend_pid() == pid


@pytest.mark.parametrize("starts", [new_request, lambda: task_prerun.send(sender=__name__)], ids=["request", "task"])
def test_a_connection_the_server_ended_is_replaced_transparently(starts):
    pid = backend_pid()
    end_session(pid)
    starts()
    assert backend_pid() != pid
