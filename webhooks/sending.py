"""One attempt at a delivery, and what it leaves: the log row, the endpoint's failing mark, and
(once, when the last attempt fails) the webhook_failed audit event."""

from datetime import timedelta

import requests
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from audit.events import record as audit
from audit.models import AuditEvent
from webhooks.addresses import check_url
from webhooks.formats import request_for, robot_refused
from webhooks.models import PING, Delivery, Endpoint

ANSWER_BYTES = 64 * 1024  # of a robot's answer, read for its errcode


def max_attempts() -> int:
    return getattr(settings, "WEBHOOKS_MAX_ATTEMPTS", 6)


def backoff(attempts: int) -> float:
    """Seconds before the next attempt after `attempts` failed ones: base, 2 x base, 4 x base, ..."""
    return getattr(settings, "WEBHOOKS_RETRY_BASE_SECONDS", 30) * 2 ** (attempts - 1)


class Refused(Exception):
    """The address check refused the URL: trying again cannot help."""


def _post(endpoint, payload, company) -> tuple[int | None, str]:
    """(status code, error) of one POST; error "" when the receiver took it. Refused by the address check."""
    try:
        check_url(endpoint.url)  # again now: the name may resolve elsewhere than when it was saved
    except ValidationError as error:
        raise Refused(" ".join(error.messages)[:300]) from None
    url, body, headers = request_for(endpoint, payload, company)
    try:
        response = requests.post(
            url,
            data=body,
            headers=headers,
            timeout=getattr(settings, "WEBHOOKS_TIMEOUT", 10),
            allow_redirects=False,  # a redirect could lead anywhere, past the address check
            stream=True,  # the answer is read only as far as needed, never whole
        )
    except requests.RequestException as error:
        return None, type(error).__name__
    with response:
        if not 200 <= response.status_code < 300:
            return response.status_code, f"HTTP {response.status_code}"
        try:
            answer = response.raw.read(ANSWER_BYTES, decode_content=True) if endpoint.preset != "generic" else b""
        except (requests.RequestException, OSError, ValueError) as error:
            return None, type(error).__name__
    if robot_refused(endpoint, answer):
        return response.status_code, "errcode"
    return response.status_code, ""


def attempt(delivery: Delivery) -> float | None:
    """Try `delivery` once; the seconds to wait before the next attempt, or None when it is over."""
    endpoint = delivery.endpoint
    if endpoint.deleted_at is not None or (not endpoint.active and delivery.event != PING):
        Delivery.all_objects.filter(pk=delivery.pk).update(status=Delivery.Status.SKIPPED, next_retry_at=None)
        return None
    payload = {"id": str(delivery.uid), "event": delivery.event, "company": delivery.tenant.slug, **delivery.payload}
    try:
        code, error = _post(endpoint, payload, delivery.tenant.name)
        final = False
    except Refused as refused:
        code, error, final = None, str(refused), True
    now = timezone.now()
    attempts = delivery.attempts + 1
    current = Delivery.all_objects.filter(pk=delivery.pk, attempts=delivery.attempts)  # a second run does nothing
    values = {"attempts": attempts, "status_code": code, "error": error}
    if not error:
        if current.update(**values, status=Delivery.Status.DELIVERED, finished_at=now, next_retry_at=None):
            Endpoint.all_objects.filter(pk=endpoint.pk, failing_since__isnull=False).update(failing_since=None)
        return None
    if not final and attempts < max_attempts():
        wait = backoff(attempts)
        current.update(**values, status=Delivery.Status.RETRYING, next_retry_at=now + timedelta(seconds=wait))
        return wait
    with transaction.atomic():
        if current.update(**values, status=Delivery.Status.FAILED, finished_at=now, next_retry_at=None):
            Endpoint.all_objects.filter(pk=endpoint.pk, failing_since__isnull=True).update(failing_since=now)
            audit(
                AuditEvent.Action.WEBHOOK_FAILED,
                target=endpoint,
                detail={"delivery": delivery.pk, "event": delivery.event, "attempts": attempts, "status_code": code},
            )
    return None
