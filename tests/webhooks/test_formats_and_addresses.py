"""The presets' bodies, the signatures, and the address check that keeps webhooks out of private networks."""

import base64
import hashlib
import hmac
import json
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.exceptions import ValidationError

from webhooks.addresses import check_url
from webhooks.formats import dingtalk_url, request_for, sign, text
from webhooks.models import Endpoint

EVENT = {"id": "d-1", "event": "customer.created", "company": "alpha", "type": "customer", "ids": [42], "count": 1}


def test_generic_json_is_the_event_signed_over_its_raw_bytes():
    endpoint = Endpoint(preset="generic", url="https://example.com/in", secret="s3cret")
    url, body, headers = request_for(endpoint, EVENT, "Alpha Ltd")
    assert url == "https://example.com/in"
    assert json.loads(body) == EVENT
    assert headers["X-CRM-Signature"] == "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert headers["X-CRM-Signature"] == sign("s3cret", body)
    assert (headers["X-CRM-Event"], headers["X-CRM-Delivery"]) == ("customer.created", "d-1")
    assert headers["Content-Type"] == "application/json"


def test_wecom_gets_a_text_message_and_no_signature():
    endpoint = Endpoint(preset="wecom", url="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=K", language="en")
    url, body, headers = request_for(endpoint, EVENT, "Alpha Ltd")
    assert url.endswith("?key=K")
    assert json.loads(body) == {"msgtype": "text", "text": {"content": "[Alpha Ltd] New customer #42."}}
    assert "X-CRM-Signature" not in headers


def test_dingtalk_signs_the_url_with_timestamp_and_sign():
    signed = dingtalk_url("https://oapi.dingtalk.com/robot/send?access_token=T", "SECxyz", now_ms=1700000000000)
    query = parse_qs(urlsplit(signed).query)
    digest = hmac.new(b"SECxyz", b"1700000000000\nSECxyz", hashlib.sha256).digest()
    assert query == {"access_token": ["T"], "timestamp": ["1700000000000"], "sign": [base64.b64encode(digest).decode()]}
    # Without a signing secret the URL is left as it is.
    assert dingtalk_url("https://oapi.dingtalk.com/robot/send?access_token=T", "") == (
        "https://oapi.dingtalk.com/robot/send?access_token=T"
    )
    endpoint = Endpoint(preset="dingtalk", url="https://oapi.dingtalk.com/robot/send?access_token=T", language="en")
    _url, body, _headers = request_for(endpoint, {**EVENT, "event": "ping"}, "Alpha Ltd")
    assert json.loads(body)["text"]["content"] == "[Alpha Ltd] Test message from the CRM: this webhook works."


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        ({"event": "ticket.updated", "ids": [5], "count": 1}, "[Co] Ticket #5 changed."),
        ({"event": "opportunity.stage_changed", "ids": [9], "count": 1}, "[Co] Opportunity #9 moved to another stage."),
        ({"event": "contact.deleted", "ids": [], "count": 3}, "[Co] 3 contacts moved to the recycle bin."),
        ({"event": "task.restored", "ids": [1, 2], "count": 2}, "[Co] 2 tasks restored from the recycle bin #1, #2."),
        ({"event": "customer.created", "ids": [], "count": 250}, "[Co] 250 customers created."),
    ],
)
def test_robot_messages_are_one_short_sentence(event, expected):
    assert text(event, "Co", "en") == expected


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://localhost:8000/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://0.0.0.0/hook",
    ],
)
def test_private_loopback_and_link_local_addresses_are_refused(url, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    with pytest.raises(ValidationError, match="private, loopback or link-local"):
        check_url(url)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.com/hook", "starts with https://"),
        ("https://user:pw@93.184.215.14/hook", "no user name or password"),
        ("https://no-such-host.invalid/hook", "does not resolve"),
        ("http://[::1/hook", "valid URL"),
    ],
)
def test_other_bad_urls_are_refused(url, message, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    with pytest.raises(ValidationError, match=message):
        check_url(url)


def test_a_public_address_passes_and_the_setting_lets_local_ones_through(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    assert check_url("https://93.184.215.14/hook") == ["93.184.215.14"]
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    assert check_url("http://127.0.0.1:8000/hook") == ["127.0.0.1"]
