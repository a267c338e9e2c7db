"""What is sent: the body of each preset, the signature headers, and DingTalk's signed URL.

Generic: the JSON event, signed with HMAC-SHA256 over the raw body (docs/webhooks.md says how
to check it). WeCom and DingTalk group robots: {"msgtype": "text", "text": {"content": ...}},
a short sentence in the endpoint's language; DingTalk with `timestamp` and `sign` query
parameters when the robot has a signing secret.
"""

import base64
import hashlib
import hmac
import json
import time
from urllib.parse import quote_plus, urlsplit, urlunsplit

from django.utils import translation
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from webhooks.models import PING, Preset

SIGNATURE_HEADER = "X-CRM-Signature"
EVENT_HEADER = "X-CRM-Event"
DELIVERY_HEADER = "X-CRM-Delivery"
USER_AGENT = "CRM-Webhooks/1"


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def dingtalk_url(url: str, secret: str, now_ms: int | None = None) -> str:
    """DingTalk's "加签": timestamp (ms) and sign = base64(HMAC-SHA256(secret, f"{timestamp}\\n{secret}"))."""
    if not secret:
        return url
    timestamp = str(now_ms if now_ms is not None else int(time.time() * 1000))
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    query = f"timestamp={timestamp}&sign={quote_plus(base64.b64encode(digest).decode())}"
    parts = urlsplit(url)
    return urlunsplit(parts._replace(query=f"{parts.query}&{query}" if parts.query else query))


def text(payload: dict, company: str, language: str) -> str:
    """One short sentence for a chat robot, in `language`."""
    with translation.override(language):
        if payload["event"] == PING:
            return _("[%(company)s] Test message from the CRM: this webhook works.") % {"company": company}
        from crm.records.registry import record_type

        kind, verb = payload["event"].split(".", 1)
        entry = record_type(kind)
        values = {
            "company": company,
            "type": str(entry.verbose_name if entry else kind),
            "Type": capfirst(str(entry.verbose_name if entry else kind)),
            "types": str(entry.verbose_name_plural if entry else kind),
            "ids": ", ".join(f"#{pk}" for pk in payload.get("ids", [])[:10]),
            "count": payload.get("count", 0),
        }
        messages = {
            "created": _("[%(company)s] New %(type)s %(ids)s."),
            "updated": _("[%(company)s] %(Type)s %(ids)s changed."),
            "stage_changed": _("[%(company)s] Opportunity %(ids)s moved to another stage."),
            "deleted": _("[%(company)s] %(count)s %(types)s moved to the recycle bin %(ids)s."),
            "restored": _("[%(company)s] %(count)s %(types)s restored from the recycle bin %(ids)s."),
        }
        if verb in ("created", "updated") and not payload.get("ids"):  # an import: counts, no ids
            messages = {
                "created": _("[%(company)s] %(count)s %(types)s created."),
                "updated": _("[%(company)s] %(count)s %(types)s changed."),
            }
        sentence = " ".join((messages[verb] % values).split())  # no ids: no double space
        return sentence.replace(" .", ".")


def request_for(endpoint, payload: dict, company: str) -> tuple[str, bytes, dict]:
    """(url, raw body, headers) of one attempt."""
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
    if endpoint.preset == Preset.GENERIC:
        body = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
        headers.update({EVENT_HEADER: payload["event"], DELIVERY_HEADER: payload["id"]})
        if endpoint.secret:
            headers[SIGNATURE_HEADER] = sign(endpoint.secret, body)
        return endpoint.url, body, headers
    message = {"msgtype": "text", "text": {"content": text(payload, company, endpoint.language)}}
    body = json.dumps(message, ensure_ascii=False).encode()
    url = dingtalk_url(endpoint.url, endpoint.secret) if endpoint.preset == Preset.DINGTALK else endpoint.url
    return url, body, headers


def robot_refused(endpoint, answer: bytes) -> bool:
    """WeCom and DingTalk answer 200 with {"errcode": n} where n != 0 when they refuse a message."""
    if endpoint.preset == Preset.GENERIC:
        return False
    try:
        return int(json.loads(answer).get("errcode", 0)) != 0
    except (ValueError, AttributeError, TypeError):
        return False
