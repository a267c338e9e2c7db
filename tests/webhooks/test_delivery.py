"""Deliveries on a real Celery worker to a real HTTP receiver: signed JSON, retries with backoff,
giving up (once audited, the endpoint marked failing), and the address check at delivery time."""

import base64
import hashlib
import hmac

import pytest

from audit.models import AuditEvent
from crm.tenancy.context import activate
from tests.factories import RecordMaker, make_member, make_tenant
from tests.webhooks.conftest import only_delivery, settled
from webhooks import actions
from webhooks.models import Delivery, Endpoint

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def company():
    tenant = make_tenant("hooked", name="Hooked Ltd")
    return RecordMaker(tenant, make_member(tenant, "hook-admin", role="admin"))


def test_a_new_customer_is_posted_as_signed_json(celery_worker, company, receiver):
    endpoint = company.endpoint(url=receiver.url, events=["customer.created"])
    secret = Endpoint.all_objects.get(pk=endpoint.pk).secret
    customer = company.customer(name="Signed Co")

    delivery = settled(only_delivery(endpoint).pk)
    assert (delivery.status, delivery.attempts, delivery.status_code) == ("delivered", 1, 200)
    [request] = receiver.requests
    raw, headers = request["raw"], request["headers"]
    # The receiver's check: HMAC-SHA256 of the raw body with the secret, hex, after "sha256=".
    expected = "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-CRM-Signature"], expected)
    assert headers["X-CRM-Event"] == "customer.created"
    assert headers["X-CRM-Delivery"] == str(delivery.uid)
    body = receiver.json()
    assert body["event"] == "customer.created" and body["type"] == "customer"
    assert body["ids"] == [customer.pk] and body["count"] == 1
    assert body["company"] == "hooked" and body["id"] == str(delivery.uid) and body["occurred_at"]
    assert "Signed Co" not in raw.decode()  # ids, never values


def test_a_receiver_failing_twice_gets_it_on_the_third_attempt(celery_worker, company, receiver):
    receiver.answers = [500, 503]
    endpoint = company.endpoint(url=receiver.url, events=["customer.created"])
    company.customer()

    delivery = settled(only_delivery(endpoint).pk)
    assert (delivery.status, delivery.attempts, delivery.status_code, delivery.next_retry_at) == (
        "delivered",
        3,
        200,
        None,
    )
    assert len(receiver.requests) == 3
    assert len({request["headers"]["X-CRM-Delivery"] for request in receiver.requests}) == 1  # the same delivery
    assert Endpoint.all_objects.get(pk=endpoint.pk).failing_since is None
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.WEBHOOK_FAILED).exists()


def test_after_the_last_attempt_it_gives_up_once_and_marks_the_endpoint_failing(celery_worker, company, receiver):
    receiver.answers = [500] * 3
    endpoint = company.endpoint(url=receiver.url, events=["customer.created"])
    company.customer()

    delivery = settled(only_delivery(endpoint).pk)
    assert (delivery.status, delivery.attempts, delivery.status_code, delivery.error) == ("failed", 3, 500, "HTTP 500")
    assert len(receiver.requests) == 3  # WEBHOOKS_MAX_ATTEMPTS in these tests
    assert Endpoint.all_objects.get(pk=endpoint.pk).failing_since is not None
    [event] = AuditEvent.objects.filter(action=AuditEvent.Action.WEBHOOK_FAILED)
    assert (event.tenant_id, event.object_type, event.object_id) == (company.tenant.pk, "endpoint", str(endpoint.pk))
    assert event.detail == {"delivery": delivery.pk, "event": "customer.created", "attempts": 3, "status_code": 500}

    # The next delivery that gets through clears the mark.
    receiver.answers = []
    with activate(company.tenant, user=company.actor):
        ping = actions.send_test(Endpoint.objects.get(pk=endpoint.pk), acting_user=company.actor)
    assert settled(ping.pk).status == "delivered"
    assert Endpoint.all_objects.get(pk=endpoint.pk).failing_since is None


def test_a_private_address_is_refused_at_delivery_time_without_a_request(celery_worker, company, receiver, settings):
    endpoint = company.endpoint(url=receiver.url, events=["customer.created"])
    settings.WEBHOOKS_ALLOW_PRIVATE = False  # as in production: 127.0.0.1 is no place to post to
    company.customer()

    delivery = settled(only_delivery(endpoint).pk)
    assert (delivery.status, delivery.attempts, delivery.status_code) == ("failed", 1, None)
    assert "private, loopback or link-local" in delivery.error
    assert receiver.requests == []
    assert AuditEvent.objects.filter(action=AuditEvent.Action.WEBHOOK_FAILED).count() == 1


def test_a_dingtalk_robot_gets_text_and_a_signed_url(celery_worker, company, receiver):
    receiver.body = b'{"errcode": 0, "errmsg": "ok"}'
    endpoint = company.endpoint(
        url=receiver.url + "?access_token=abc",
        preset="dingtalk",
        secret="SECrobot",
        language="zh-hans",
        events=["customer.created"],
    )
    customer = company.customer()

    assert settled(only_delivery(endpoint).pk).status == "delivered"
    [request] = receiver.requests
    query = request["query"]
    assert query["access_token"] == ["abc"]
    timestamp, sign = query["timestamp"][0], query["sign"][0]
    expected = base64.b64encode(
        hmac.new(b"SECrobot", f"{timestamp}\nSECrobot".encode(), hashlib.sha256).digest()
    ).decode()
    assert sign == expected
    body = receiver.json()
    assert body["msgtype"] == "text" and f"#{customer.pk}" in body["text"]["content"]
    assert "Hooked Ltd" in body["text"]["content"]


def test_a_robot_refusing_with_an_errcode_is_a_failed_attempt(celery_worker, company, receiver):
    receiver.body = b'{"errcode": 93000, "errmsg": "invalid webhook url"}'
    endpoint = company.endpoint(url=receiver.url, preset="wecom", events=["customer.created"])
    company.customer()

    delivery = settled(only_delivery(endpoint).pk)
    assert (delivery.status, delivery.attempts, delivery.error) == ("failed", 3, "errcode")


def test_a_disabled_or_deleted_endpoint_gets_nothing(celery_worker, company, receiver):
    endpoint = company.endpoint(url=receiver.url, events=["customer.created"])
    with activate(company.tenant, user=company.actor):
        actions.update_endpoint(endpoint, active=False, acting_user=company.actor)
    company.customer()
    assert not Delivery.all_objects.filter(endpoint=endpoint).exists()
    assert receiver.requests == []
