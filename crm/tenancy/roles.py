"""Roles and the actions they name (ARCHITECTURE.md, "Permissions").

Which role may take which action on which record type is declared by each
record type in the registry (crm.records.registry.RecordType.rights);
object-level rules ("a rep's own customers") are the `restrict()` of each
model's queryset, so views never filter by hand.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("Admin")
    MANAGER = "manager", _("Manager")
    REP = "rep", _("Sales rep")
    SUPPORT = "support", _("Support agent")
    VIEWER = "viewer", _("Viewer")


class Action(models.TextChoices):
    VIEW = "view", _("view")
    ADD = "add", _("add")
    CHANGE = "change", _("change")
    DELETE = "delete", _("delete")
    RESTORE = "restore", _("restore")
    PURGE = "purge", _("purge")


# Roles that manage the company itself (members, settings, audit log, restores).
TENANT_ADMIN_ROLES = frozenset({Role.ADMIN})
# Roles that read the audit log.
AUDIT_READER_ROLES = frozenset({Role.ADMIN, Role.MANAGER})


def role_may(role: str, action: str, model_name: str) -> bool:
    """Whether `role` may take `action` on some records of the registered type `model_name`."""
    from crm.records.registry import record_type

    entry = record_type(model_name)
    return entry is not None and entry.allows(role, action)
