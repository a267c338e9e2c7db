"""Scenario 9: many clients against gunicorn on loopback (requests per second and p95)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from http.client import HTTPConnection

from django.conf import settings

from bench.pages import Context
from bench.timing import Result
from crm.tenancy.context import activate
from crm.tenancy.middleware import SESSION_TENANT_KEY

# 9 -------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _load(port, path, headers, *, clients, seconds, max_requests) -> tuple[float, float, int, int]:
    latencies, errors, lock = [], [0], threading.Lock()
    deadline = time.monotonic() + seconds

    def client():
        conn = HTTPConnection("127.0.0.1", port, timeout=30)
        while time.monotonic() < deadline:
            with lock:
                if len(latencies) + errors[0] >= max_requests:
                    return
            started = time.perf_counter()
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
                ok = response.status == 200
            except OSError:
                conn.close()
                conn = HTTPConnection("127.0.0.1", port, timeout=30)
                ok = False
            with lock:
                if ok:
                    latencies.append(time.perf_counter() - started)
                else:
                    errors[0] += 1
        conn.close()

    started = time.monotonic()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    latencies.sort()
    p95 = latencies[int(len(latencies) * 0.95) - 1] if latencies else float("nan")
    return len(latencies) / elapsed, p95, len(latencies), errors[0]


def load(ctx: Context, *, clients=8, seconds=10, max_requests=20_000) -> list[Result]:
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session["_auth_user_id"] = str(ctx.admin.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = ctx.admin.get_session_auth_hash()
    session[SESSION_TENANT_KEY] = ctx.tenant.pk
    session.create()
    with activate(ctx.tenant):
        from customers.models import Customer

        customer_id = Customer.objects.order_by("id").values_list("id", flat=True).first()
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": os.environ["DATABASE_URL"], "DEBUG": "0", "API_RATE_LIMIT": "1000000/min"}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "crm.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--log-level",
            "warning",
        ],
        env=env,
    )
    try:
        for _ in range(100):
            try:
                HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/healthz")
                break
            except OSError:
                time.sleep(0.2)
        results = []
        for label, path, headers in [
            ("customer list API", "/api/v1/customers/?page_size=50", {"Authorization": f"Token {ctx.token}"}),
            (
                "customer page",
                f"/customers/{customer_id}/",
                {"Cookie": f"{settings.SESSION_COOKIE_NAME}={session.session_key}"},
            ),
        ]:
            rps, p95, done, errors = _load(
                port, path, headers, clients=clients, seconds=seconds, max_requests=max_requests
            )
            results.append(
                Result(
                    scenario=f"9. {clients} clients on loopback, gunicorn 2 workers: {label}",
                    median=p95,
                    minimum=p95,
                    maximum=p95,
                    note=f"{rps:,.0f} req/s, p95 {p95 * 1000:.0f} ms, {done} ok, {errors} errors",
                    extra={"requests_per_second": rps, "p95": p95, "errors": errors},
                )
            )
        return results
    finally:
        server.terminate()
        server.wait(timeout=30)
