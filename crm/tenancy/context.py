"""Who is acting, for which tenant, from where: one ContextVar per request or task.

Middleware activates it for requests; Celery tasks and management commands
activate it explicitly. Scoped managers read the tenant from here and raise
NoTenantError when none is active, so a forgotten activation fails closed.
"""

from __future__ import annotations

import uuid
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from crm.tenancy.models import Membership, Tenant


class NoTenantError(RuntimeError):
    """A tenant-scoped query ran with no active tenant."""


@dataclass(frozen=True)
class Context:
    tenant: Tenant | None = None
    user: Any = None
    membership: Membership | None = None
    # A named system process ("celery:purge_recycle_bin", "cli:seed_demo")
    # stands in for a user when no person acts.
    process: str = ""
    reason: str = ""
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    ip: str | None = None
    user_agent: str = ""


_EMPTY = Context()
_current: ContextVar[Context] = ContextVar("crm_context", default=_EMPTY)


def get_context() -> Context:
    return _current.get()


def current_tenant() -> Tenant:
    tenant = _current.get().tenant
    if tenant is None:
        raise NoTenantError("No tenant is active: activate one with crm.tenancy.context.activate().")
    return tenant


def current_tenant_or_none() -> Tenant | None:
    return _current.get().tenant


@contextmanager
def activate(tenant: Tenant | None, **values):
    """Run the block as `values` (user, membership, process, reason, ip, ...) in `tenant`."""
    token = _current.set(Context(tenant=tenant, **values))
    _database_follows()
    try:
        yield _current.get()
    finally:
        _current.reset(token)


@contextmanager
def amend(**values):
    """Run the block with some fields of the active context changed (e.g. reason)."""
    token = _current.set(replace(_current.get(), **values))
    try:
        yield _current.get()
    finally:
        _current.reset(token)


def set_context(context: Context):
    """Set the context for the rest of this request; returns the reset token."""
    token = _current.set(context)
    _database_follows()
    return token


def _database_follows() -> None:
    """Row-level security: an open connection outside a transaction gets the new company now,
    so the transactions that follow need not set it (crm.tenancy.rls.follow)."""
    from crm.tenancy import rls

    rls.follow()


def reset_context(token) -> None:
    _current.reset(token)
