"""The worker and beat health checks against real processes (killed with SIGKILL), their JSON log
lines with request ids, and Sentry reporting to a local HTTP endpoint."""

import gzip
import http.server
import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid

import pytest
from django.core.management import CommandError, call_command

from crm.celery import app
from tests.test_retention_resume import ROOT, database_url, wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def environment(cache_prefix, **extra) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": database_url(),
        "CACHE_KEY_PREFIX": cache_prefix,
        "LOG_FORMAT": "json",
        "DJANGO_SETTINGS_MODULE": "crm.settings",
        # Their own queue: what this beat sends (the backup jobs among them) reaches no other worker,
        # and no task another test left behind reaches these processes.
        "CELERY_QUEUE": f"ops-{cache_prefix}",
        **extra,
    }


def start(arguments, env, log):
    return subprocess.Popen([sys.executable, "-m", "celery", "-A", "crm", *arguments], cwd=ROOT, env=env, stderr=log)


def stop(process):
    if process.poll() is None:
        os.kill(process.pid, signal.SIGKILL)
    process.wait(10)


def json_lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.startswith("{")]


def manage(*arguments, env, timeout=60):
    return subprocess.run(
        [sys.executable, "manage.py", *arguments], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


def test_the_worker_health_check_asks_that_very_worker_and_fails_once_it_is_killed(cache_prefix, tmp_path, client):
    node = f"hb{uuid.uuid4().hex[:8]}@{socket.gethostname()}"
    log = tmp_path / "worker.log"
    arguments = ["worker", "-n", node, "-Q", app.conf.task_default_queue, "--pool", "solo", "--loglevel", "INFO"]
    worker = start(
        [*arguments, "--without-gossip", "--without-mingle", "--without-heartbeat"],
        environment(cache_prefix),
        log.open("w"),
    )
    try:
        call_command("heartbeat", "worker", destination=node, timeout=30)
        assert client.get("/readyz").json()["checks"]["worker"]["status"] == "ok"
        lines = json_lines(log)
        probe = next(line for line in lines if line["message"] == "heartbeat (probe)")
        assert probe["task"] == "ops.tasks.heartbeat" and probe["request_id"] == probe["task_id"]
        assert {"time", "level", "logger", "request_id"} <= set(lines[0])  # the worker's own lines too
        # Another worker's check is not answered by this one, though it is alive and on the default queue.
        with pytest.raises(CommandError, match="no worker answered"):
            call_command("heartbeat", "worker", destination=f"other@{socket.gethostname()}", timeout=1.5)
    finally:
        stop(worker)
    with pytest.raises(CommandError, match=r"^no worker answered within 1\.5 s$") as failure:
        call_command("heartbeat", "worker", destination=node, timeout=1.5)
    assert failure.value.returncode == 1  # docker's "unhealthy"


def test_the_beat_health_check_reads_its_last_tick_and_fails_once_it_is_killed(cache_prefix, tmp_path):
    env = environment(cache_prefix, HEARTBEAT_SECONDS="0.5")
    schedule = tmp_path / "schedule"
    beat = start(["beat", "--schedule", str(schedule), "--max-interval", "1"], env, (tmp_path / "beat.log").open("w"))
    try:
        wait_until(lambda: _ticked_within(3), timeout=30)
    finally:
        stop(beat)
    time.sleep(1.2)
    with pytest.raises(CommandError, match=r"^beat has not ticked for \d+ s$") as failure:
        call_command("heartbeat", "beat", max_age=1)
    assert failure.value.returncode == 1


def _ticked_within(seconds) -> bool:
    try:
        call_command("heartbeat", "beat", max_age=seconds, stdout=io.StringIO())
    except CommandError:
        return False
    return True


def test_request_and_command_log_lines_are_json_with_the_request_id(client, cache_prefix, caplog):
    import logging

    # The configured console handler's filter and formatter, on a handler of the access logger
    # itself: what other tests did to the root logger's level or handlers does not matter here.
    console = next(handler for handler in logging.getLogger().handlers if handler.get_name() == "console")
    lines = []
    capture = logging.Handler()
    capture.filters = list(console.filters)
    capture.setFormatter(console.formatter)
    capture.emit = lambda record: lines.append(capture.format(record))
    access_logger = logging.getLogger("crm.request")
    access_logger.addHandler(capture)
    try:
        with caplog.at_level(logging.INFO, logger="crm.request"):
            client.get("/healthz", HTTP_X_REQUEST_ID="req-0123456789")
    finally:
        access_logger.removeHandler(capture)
    access = json.loads(lines[-1])
    assert access["logger"] == "crm.request" and access["message"] == "GET /healthz 200"
    assert access["request_id"] == "req-0123456789" and access["status"] == 200 and access["level"] == "INFO"

    code = "import logging; logging.getLogger('crm.ops').warning('from a command')"
    result = manage("shell", "-c", code, env=environment(cache_prefix))
    line = json.loads(result.stderr.strip().splitlines()[-1])
    assert line["message"] == "from a command" and len(line["request_id"]) == 32


class Collector(http.server.BaseHTTPRequestHandler):
    received: list[tuple[str, bytes]] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        gzipped = self.headers.get("Content-Encoding") == "gzip"
        self.received.append((self.path, gzip.decompress(body) if gzipped else body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_errors_go_to_sentry_when_a_dsn_is_set(cache_prefix):
    server = http.server.HTTPServer(("127.0.0.1", 0), Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    code = (
        "import django; django.setup(); import sentry_sdk; "
        "print(sentry_sdk.get_client().is_active()); sentry_sdk.capture_message('readiness probe'); sentry_sdk.flush(5)"
    )
    try:
        dsn = f"http://publickey@127.0.0.1:{server.server_port}/42"
        sent = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, env=environment(cache_prefix, SENTRY_DSN=dsn), capture_output=True
        )
    finally:
        server.shutdown()
    assert sent.stdout.decode().strip() == "True", sent.stderr
    assert [path for path, _ in Collector.received] == ["/api/42/envelope/"]
    assert b"readiness probe" in Collector.received[0][1]


def test_gunicorn_workers_share_their_request_figures(cache_prefix, tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = environment(
        cache_prefix,
        GUNICORN_BIND=f"127.0.0.1:{port}",
        GUNICORN_WORKERS="2",
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "prometheus"),
        METRICS_TOKEN="token",
    )
    web = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "crm.wsgi:application", "--config", "python:ops.gunicorn"],
        cwd=ROOT,
        env=env,
        stderr=(tmp_path / "web.log").open("w"),
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _answers(f"{base}/healthz"), timeout=60)
        before = _healthz_count(base)
        for _ in range(7):
            assert _answers(f"{base}/healthz")
        assert _healthz_count(base) == before + 7  # whichever worker took each
    finally:
        web.terminate()
        web.wait(20)
    assert os.listdir(tmp_path / "prometheus")  # the workers' figures, in files /metrics sums up


def _healthz_count(base) -> float:
    request = urllib.request.Request(f"{base}/metrics", headers={"Authorization": "Bearer token"})
    text = urllib.request.urlopen(request, timeout=10).read().decode()
    sample = 'crm_http_request_duration_seconds_count{method="GET",route="healthz",status="200"}'
    return float(re.search(rf"^{re.escape(sample)} (\S+)$", text, re.M).group(1))


def _answers(url) -> bool:
    try:
        return urllib.request.urlopen(url, timeout=60).status == 200  # none left behind to count later
    except OSError:
        return False
