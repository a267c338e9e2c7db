"""Who may call the API: members of the active tenant, with their role's rights.

Object-level rights are not checked here: they are the restricting queryset
(`Model.objects.for_user(user, action)`), so a record outside it is a 404
(invisible) or a 403 (visible but not allowed), decided by the viewset.
"""

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission

from crm.tenancy.context import get_context
from crm.tenancy.roles import AUDIT_READER_ROLES, role_may


def active_membership(request):
    """The membership the request acts as (token's tenant, or the session's), or None."""
    membership = get_context().membership
    user = getattr(request, "user", None)
    if membership is None or user is None or membership.user_id != getattr(user, "pk", None):
        return None
    return membership


class IsTenantMember(BasePermission):
    """Authenticated (401 otherwise) and a member of the tenant the request acts in (403 otherwise)."""

    message = _("You are not a member of any company.")

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and active_membership(request))


class RoleMayAct(IsTenantMember):
    """The member's role allows the view's action on its model at all (`view.role_action()`)."""

    message = _("Your role does not allow this.")

    def has_permission(self, request, view):
        if not super().has_permission(request, view):
            self.message = IsTenantMember.message
            return False
        action = view.role_action()
        return action is None or role_may(active_membership(request).role, action, view.model._meta.model_name)


class IsTenantAdminOrManager(IsTenantMember):
    message = _("Only admins and managers may read the audit log.")

    def has_permission(self, request, view):
        if not super().has_permission(request, view):
            self.message = IsTenantMember.message
            return False
        return active_membership(request).role in AUDIT_READER_ROLES
