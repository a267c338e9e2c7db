"""What every write action shares: who acts, and the ways an action says no.

An action is a function in an app's `actions.py` marked `@action`: it takes the
acting user as the keyword `acting_user`, checks the permission, validates,
writes, records history and the audit event in one transaction, and schedules
side effects with `transaction.on_commit`. Views, API viewsets, Celery tasks,
management commands and the Django admin only translate input and output.

An action refuses with one of three exceptions, each translated the same way
everywhere:

- django.core.exceptions.PermissionDenied: 403 (a page, a JSON error, exit code 2);
- django.core.exceptions.ValidationError: the input breaks a rule (a form error, 400);
- ActionConflict: the state forbids it now (409): "another backup is running".

`acting_user=None` is the system (a Celery task, a management command, a
migration, the tests); it is refused inside a signed-in person's request, so a
view cannot act as the system by mistake.
"""

from __future__ import annotations

from contextlib import contextmanager
from functools import wraps

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from crm.tenancy.context import amend, get_context
from crm.tenancy.querysets import membership_for


class ActionConflict(Exception):
    """The action cannot be done in the present state; nothing was changed.

    `str()` is the message for people; `code` names the case for API clients.
    """

    code = "conflict"

    def __init__(self, message, code: str | None = None):
        super().__init__(message)
        if code:
            self.code = code


def action(function):
    """Marks a write action: `acting_user` is a required keyword, and history and audit name them."""

    @wraps(function)
    def run(*args, acting_user, **kwargs):
        with acting(acting_user):
            return function(*args, acting_user=acting_user, **kwargs)

    run.is_action = True
    return run


@contextmanager
def acting(acting_user):
    """Run the block as `acting_user` (None: the context's system process)."""
    context = get_context()
    if acting_user is None:
        if context.user is not None and not context.process:
            raise PermissionDenied(_("A signed-in person cannot act as the system."))
        yield context
        return
    if context.user is acting_user or getattr(context.user, "pk", None) == acting_user.pk:
        yield context
        return
    membership = context.membership if getattr(context.membership, "user_id", None) == acting_user.pk else None
    with amend(user=acting_user, membership=membership) as changed:
        yield changed


def member_role(acting_user) -> str | None:
    """The acting user's role in the active company (None: not a member)."""
    membership = membership_for(acting_user) if acting_user is not None else None
    return membership.role if membership else None


def require_role(acting_user, roles, message) -> None:
    """PermissionDenied(message) unless the acting user (or the system) holds one of `roles` here."""
    if acting_user is not None and member_role(acting_user) not in roles:
        raise PermissionDenied(message)


def is_staff(user) -> bool:
    """Installation operators (Django staff): whole-database backups, the Django admin."""
    return bool(user is not None and user.is_authenticated and user.is_active and (user.is_staff or user.is_superuser))
