"""Django's PostgreSQL backend, with a health check that costs no round trip.

With CONN_HEALTH_CHECKS Django sends `SELECT 1` before the first query of every
request: a round trip (about 0.1 ms) on every API call, to catch a connection
the server ended while it sat idle. A server that ends a session (restart,
pg_terminate_backend, idle_session_timeout, a crash) sends its goodbye or
closes the socket, so the socket turns readable; a healthy idle connection has
nothing to read. So: poll the socket without waiting, and only when it has
something to say run Django's own `SELECT 1` check. A peer that vanished
without a word (a host losing power) is noticed by the next query instead, as
it would be by Django without health checks; Django then drops the connection
at the end of that request.
"""

import select

from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    def close_if_health_check_failed(self):
        if self.connection is None or not self.health_check_enabled or self.health_check_done:
            return
        if self.connection.closed or (self._peer_has_spoken() and not self.is_usable()):
            self.close()
        self.health_check_done = True

    def _peer_has_spoken(self) -> bool:
        try:
            readable, _, _ = select.select([self.connection.fileno()], [], [], 0)
        except (OSError, ValueError):
            return True  # let the real check decide
        return bool(readable)
