"""Writing audit events: one function, in the caller's transaction, one chain per tenant.

An event of a tenant goes on that tenant's chain (AuditEvent); an event with no
tenant (backups, drills, failed logins of unknown users) on the one system chain
(SystemEvent). Writers of a chain take a transaction-level advisory lock, read
the last hash and append; concurrent writers queue up instead of forking it.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC

from django.db import connection, transaction
from django.utils import timezone

from audit.models import AuditEvent, ChainedEvent, SystemEvent
from crm.tenancy import rls
from crm.tenancy.context import get_context

GENESIS = "0" * 64
LOCK_NAMESPACE = 0x41554454  # "AUDT": keeps these advisory locks apart from any other
SYSTEM_CHAIN = 0  # the lock key of the system chain (tenant ids start at 1)


def canonical(event: ChainedEvent) -> bytes:
    """The bytes a hash covers: every recorded field, in a fixed order and format.

    A system event hashes as an event without a tenant, as it did while it lived
    in the tenants' table: moving it kept its hash.
    """
    payload = {
        "tenant": getattr(event, "tenant_id", None),
        "seq": event.seq,
        "created_at": event.created_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor": event.actor_id,
        "actor_username": event.actor_username,
        "process": event.process,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "batch": str(event.batch) if event.batch else None,
        "count": event.count,
        "request_id": event.request_id,
        "ip_address": event.ip_address,
        "user_agent": event.user_agent,
        "detail": event.detail,
    }
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def chain_hash(prev_hash: str, event: ChainedEvent) -> str:
    return hashlib.sha256(prev_hash.encode() + canonical(event)).hexdigest()


def chain_events(tenant_id):
    """The events of one chain: a tenant's (tenant_id), or the system's (None)."""
    return AuditEvent.objects.filter(tenant_id=tenant_id) if tenant_id else SystemEvent.objects.all()


def _lock_chain(tenant_id) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_NAMESPACE, tenant_id or SYSTEM_CHAIN])


@transaction.atomic
def record(
    action: str,
    *,
    tenant=None,
    target=None,
    object_type: str = "",
    object_id="",
    batch=None,
    count: int = 0,
    detail: dict | None = None,
    actor=None,
) -> ChainedEvent:
    """Append one event. `target` (a model instance) fills object_type and object_id.

    The tenant is `tenant`, else the active one; with neither, the event is a system event.
    """
    context = get_context()
    tenant = tenant if tenant is not None else context.tenant
    if target is not None:
        object_type = object_type or target._meta.model_name
        object_id = object_id or target.pk
    return append(
        getattr(tenant, "pk", tenant),
        action,
        actor=actor if actor is not None else context.user,
        object_type=object_type,
        object_id=object_id,
        batch=batch,
        count=count,
        detail=detail,
    )


def record_system(action: str, *, target=None, detail: dict | None = None) -> ChainedEvent:
    """Append one event to the system chain, whatever company is active (a whole-database backup)."""
    return append(
        None,
        action,
        actor=get_context().user,
        object_type=target._meta.model_name if target is not None else "",
        object_id=target.pk if target is not None else "",
        detail=detail,
    )


@transaction.atomic
def append(tenant_id, action: str, *, actor=None, object_type="", object_id="", batch=None, count=0, detail=None):
    """Append to the chain of `tenant_id` (None: the system chain), whatever tenant is active."""
    with rls.company(tenant_id):  # the database lets this company's chain be read and extended
        return _append(tenant_id, action, actor, object_type, object_id, batch, count, detail)


def _append(tenant_id, action, actor, object_type, object_id, batch, count, detail):
    context = get_context()
    actor = actor if getattr(actor, "pk", None) else None
    _lock_chain(tenant_id)
    last = chain_events(tenant_id).order_by("-seq").values_list("seq", "hash").first()
    values = {
        "seq": (last[0] + 1) if last else 1,
        "created_at": timezone.now(),
        "actor": actor,
        "actor_username": actor.get_username() if actor else "",
        "process": context.process,
        "action": action,
        "object_type": object_type,
        "object_id": str(object_id or ""),
        "batch": batch,
        "count": count,
        "request_id": context.request_id,
        "ip_address": context.ip,
        "user_agent": context.user_agent,
        "detail": detail or {},
        "prev_hash": last[1] if last else GENESIS,
    }
    event = AuditEvent(tenant_id=tenant_id, **values) if tenant_id else SystemEvent(**values)
    event.hash = chain_hash(event.prev_hash, event)
    event.save(force_insert=True)
    return event
