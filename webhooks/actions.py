"""Writes to webhooks: one action per operation (see customers.actions for the shared rules).

Endpoints are records like any other (crm.records.actions: rights, validation, history,
one audit event). Their secret is set only here, never copied into history rows nor
audit details, and returned once to the caller that set it. Deliveries are written by
`enqueue` (the audit hook, webhooks.hooks) and by `send_test`, and sent by webhooks.tasks.
"""

import secrets
import uuid
from functools import partial

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from crm.records import actions as records
from crm.tenancy.acting import action
from crm.tenancy.context import current_tenant
from webhooks.addresses import check_url
from webhooks.models import EVENTS, PING, Delivery, Endpoint, Preset

EDITABLE = ("name", "url", "preset", "events", "language", "active")


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def _clean(values: dict) -> dict:
    if "url" in values:
        try:
            check_url(values["url"])
        except ValidationError as error:
            raise ValidationError({"url": error.messages}) from None
    if "events" in values:
        chosen = list(dict.fromkeys(values["events"] or []))
        if not chosen:
            raise ValidationError({"events": _("Choose at least one event.")})
        if set(chosen) - set(EVENTS):
            raise ValidationError({"events": _("Unknown event.")})
        values["events"] = chosen
    unknown = set(values) - {*EDITABLE, "secret"}
    if unknown:
        raise ValidationError(_("Unknown fields: %(names)s.") % {"names": ", ".join(sorted(unknown))})
    return values


@action
def create_endpoint(*, acting_user, secret: str = "", **values) -> tuple[Endpoint, str]:
    """A new endpoint and its secret (shown once): a generic one gets a generated secret unless given one."""
    records.require(acting_user, "add", Endpoint)
    values = _clean(values)
    preset = values.get("preset", Preset.GENERIC)
    secret = (secret or "").strip() or (new_secret() if preset == Preset.GENERIC else "")
    endpoint = records.create(Endpoint, acting_user=acting_user, secret=secret, **values)
    return endpoint, secret


@action
def update_endpoint(endpoint: Endpoint, *, acting_user, **values) -> Endpoint:
    """Change what an endpoint receives, where, and how; a given `secret` replaces the stored one."""
    records.require(acting_user, "change", Endpoint, endpoint)
    values = _clean(values)
    if "secret" in values:
        values["secret"] = (values["secret"] or "").strip()
        if not values["secret"]:
            del values["secret"]
    return records.update(endpoint, acting_user=acting_user, **values)


@action
def rotate_secret(endpoint: Endpoint, *, acting_user) -> str:
    """A new generated secret for a generic endpoint (returned once). A robot's secret comes from
    the robot's own settings: it is typed in, never generated."""
    if endpoint.preset != Preset.GENERIC:
        raise ValidationError(_("Only a JSON webhook gets a generated secret; type the robot's own in its form."))
    secret = new_secret()
    update_endpoint(endpoint, secret=secret, acting_user=acting_user)
    return secret


@action
def send_test(endpoint: Endpoint, *, acting_user) -> Delivery:
    """Queue a `ping` to `endpoint`; it shows in the delivery log like any other delivery."""
    records.require(acting_user, "change", Endpoint, endpoint)
    with transaction.atomic():
        [delivery] = _write([(endpoint.pk, PING, {"type": "", "ids": [], "count": 0})], current_tenant().pk)
    return delivery


def enqueue(tenant_id: int, found: list[tuple[str, dict]]) -> list[int]:
    """Deliveries of `found` (event name, payload) to the company's endpoints that chose them.

    Called by the audit hook inside the writing transaction; the sending is queued on commit.
    """
    names = [name for name, _payload in found]
    chosen = (
        Endpoint.all_objects.filter(tenant_id=tenant_id, deleted_at__isnull=True, active=True, events__overlap=names)
        .order_by("pk")
        .values_list("pk", "events")
    )
    rows = [(pk, name, payload) for pk, events in chosen for name, payload in found if name in events]
    return [delivery.pk for delivery in _write(rows, tenant_id)] if rows else []


def _write(rows, tenant_id) -> list[Delivery]:
    created = Delivery.all_objects.bulk_create(
        Delivery(tenant_id=tenant_id, endpoint_id=pk, uid=uuid.uuid4(), event=name, payload=payload)
        for pk, name, payload in rows
    )
    from webhooks.tasks import deliver

    for delivery in created:
        transaction.on_commit(partial(deliver.delay, delivery.pk))
    return created
