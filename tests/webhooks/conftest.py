"""A real HTTP receiver in a thread, and webhook settings fit for tests (local targets, quick retries)."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from webhooks.models import Delivery

OVER = (Delivery.Status.DELIVERED, Delivery.Status.FAILED, Delivery.Status.SKIPPED)


@pytest.fixture(autouse=True)
def webhook_settings(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    settings.WEBHOOKS_RETRY_BASE_SECONDS = 0.05
    settings.WEBHOOKS_MAX_ATTEMPTS = 3
    settings.WEBHOOKS_TIMEOUT = 3
    return settings


class Receiver:
    """Records every POST; answers with the next of `answers` (then 200 for ever)."""

    def __init__(self):
        self.requests = []
        self.answers = []
        self.body = b'{"errcode": 0}'
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                parts = urlsplit(self.path)
                receiver.requests.append(
                    {"path": parts.path, "query": parse_qs(parts.query), "headers": dict(self.headers), "raw": raw}
                )
                status = receiver.answers.pop(0) if receiver.answers else 200
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(receiver.body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def json(self, index=-1) -> dict:
        return json.loads(self.requests[index]["raw"])

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    running = Receiver()
    yield running
    running.close()


def settled(delivery_id, timeout=20) -> Delivery:
    """The delivery once it is over (delivered, failed or skipped)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        delivery = Delivery.all_objects.get(pk=delivery_id)
        if delivery.status in OVER:
            return delivery
        time.sleep(0.05)
    raise AssertionError(f"delivery {delivery_id} still {delivery.status} after {timeout}s")


def only_delivery(endpoint) -> Delivery:
    [delivery] = Delivery.all_objects.filter(endpoint=endpoint)
    return delivery
