"""Who may see and do what with backups: one module for the pages, the API and the actions.

- tenant admins (role admin in the active company) and staff (is_staff or
  superuser) see the backup history with the last restore drill of each;
  everyone else is refused;
- tenant admins restore their own company, or one customer of it, and follow
  their company's restores;
- staff alone start a backup (a dump of the whole database) and restore a whole
  backup into a new database, and follow those restores.

Each rule takes the user and their membership in the active company explicitly
(the browser's `request.membership`, the API token's membership, the action's
`membership_for(acting_user)`), so no caller has to dress up as a request.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, Q
from django.utils.translation import gettext_lazy

from backups.models import Backup, RestoreDrill, RestoreRun
from crm.tenancy.acting import is_staff
from crm.tenancy.context import current_tenant_or_none
from crm.tenancy.querysets import membership_for
from crm.tenancy.roles import TENANT_ADMIN_ROLES

VIEWERS, ADMINS, STAFF = "viewers", "admins", "staff"


def is_tenant_admin(membership) -> bool:
    return membership is not None and membership.role in TENANT_ADMIN_ROLES


AUDIENCES = {
    VIEWERS: lambda user, membership: is_tenant_admin(membership) or is_staff(user),
    ADMINS: lambda user, membership: is_tenant_admin(membership),
    STAFF: lambda user, membership: is_staff(user),
}
DENIED = {
    VIEWERS: gettext_lazy("Only company administrators and staff may see the backups."),
    ADMINS: gettext_lazy("Only administrators of this company may restore it from a backup."),
    STAFF: gettext_lazy("Only staff may back up or restore the whole database."),
}


def allows(audience: str, user, membership) -> bool:
    """Whether `user` (with `membership` in the active company, or None) is one of `audience`."""
    return AUDIENCES[audience](user, membership)


def acting_membership(user):
    """`user`'s membership in the active company (None: the system, no company active, or not a member)."""
    if user is None or current_tenant_or_none() is None:
        return None
    return membership_for(user)


def require(audience: str, user) -> None:
    """PermissionDenied unless `user` (or the system, None) is one of `audience`."""
    if user is not None and not allows(audience, user, acting_membership(user)):
        raise PermissionDenied(DENIED[audience])


# -- reading -------------------------------------------------------------------------


def backups_with_latest_drill(backups=None):
    """Backups (all of them, newest first, unless given) with `latest_drills`: [their newest drill] or []."""
    if backups is None:
        backups = Backup.objects.select_related("created_by").order_by("-started_at", "-id")
    latest = RestoreDrill.objects.order_by("-started_at", "-id")[:1]
    return backups.prefetch_related(Prefetch("drills", queryset=latest, to_attr="latest_drills"))


def visible_restores(user, membership):
    """Restores `user` may follow: their company's (its admins) and whole-database ones (staff)."""
    scopes = []
    if is_tenant_admin(membership):
        scopes.append(Q(tenant=membership.tenant_id))
    if is_staff(user):
        scopes.append(Q(tenant__isnull=True, scope=RestoreRun.Scope.DATABASE))
    if not scopes:
        return RestoreRun.objects.none()
    condition = scopes[0]
    for scope in scopes[1:]:
        condition |= scope
    return RestoreRun.objects.filter(condition)
