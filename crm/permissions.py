"""Roles and what each may do (ARCHITECTURE.md, "Permissions").

Model-level rights live here; object-level rights ("own customers") are the
`restrict()` of each model's queryset, so views never filter by hand.
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


ALL_RECORDS = frozenset({"customer", "contact", "interaction", "opportunity", "ticket"})
WRITE_ACTIONS = (Action.ADD, Action.CHANGE, Action.DELETE, Action.RESTORE)

# role -> action -> the model names (lower case) the role may act on at all.
# Purge is never granted by role alone: it needs the per-object permission.
MODEL_RIGHTS: dict[str, dict[str, frozenset[str]]] = {
    Role.ADMIN: dict.fromkeys((Action.VIEW, *WRITE_ACTIONS), ALL_RECORDS),
    Role.MANAGER: dict.fromkeys((Action.VIEW, *WRITE_ACTIONS), ALL_RECORDS),
    Role.REP: dict.fromkeys((Action.VIEW, *WRITE_ACTIONS), ALL_RECORDS),
    Role.SUPPORT: {
        Action.VIEW: ALL_RECORDS - {"opportunity"},
        **{action: frozenset({"ticket"}) for action in WRITE_ACTIONS},
    },
    Role.VIEWER: {Action.VIEW: ALL_RECORDS},
}

# Roles that manage the tenant itself (members, settings, audit log).
TENANT_ADMIN_ROLES = frozenset({Role.ADMIN})
SEES_WHOLE_TENANT = frozenset({Role.ADMIN, Role.MANAGER, Role.SUPPORT, Role.VIEWER})


def role_may(role: str, action: str, model_name: str) -> bool:
    """Whether `role` may perform `action` on some objects of `model_name`."""
    return model_name in MODEL_RIGHTS.get(role, {}).get(action, frozenset())


def purge_permission(model) -> str:
    """The per-object permission that allows purging a record of `model`."""
    return f"{model._meta.app_label}.purge_{model._meta.model_name}"


def purgeable(membership, queryset):
    """The rows of `queryset` the member may purge: admins all, managers where granted, others none."""
    from guardian.shortcuts import get_objects_for_user

    if membership is None:
        return queryset.none()
    if membership.role == Role.ADMIN:
        return queryset
    if membership.role == Role.MANAGER:
        return get_objects_for_user(
            membership.user,
            purge_permission(queryset.model),
            klass=queryset,
            accept_global_perms=False,
            with_superuser=False,
        )
    return queryset.none()
