"""The one restricting queryset: tenant scope plus role rights.

    Customer.objects.for_user(request.user, "change")

returns exactly the rows of the active tenant that the user may act on that
way. Models override `restrict(membership, action)` for object-level rules
(a rep's own customers); views, API and tasks never filter by hand.
"""

from __future__ import annotations

from django.db import models

from crm.tenancy.context import current_tenant, get_context
from crm.tenancy.roles import role_may


def membership_for(user):
    """The user's membership in the active tenant, or None."""
    context = get_context()
    if context.membership is not None and context.membership.user_id == getattr(user, "pk", None):
        return context.membership
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    from crm.tenancy.models import Membership

    return Membership.objects.filter(tenant=current_tenant(), user=user, is_active=True).first()


class TenantQuerySet(models.QuerySet):
    def for_user(self, user, action: str = "view"):
        membership = membership_for(user)
        if membership is None or not role_may(membership.role, action, self.model._meta.model_name):
            return self.none()
        return self.restrict(membership, action)

    def restrict(self, membership, action: str):
        """Object-level rules; the whole tenant unless a model says otherwise."""
        return self


class TenantManager(models.Manager.from_queryset(TenantQuerySet)):
    """Rows of the active tenant only; raises NoTenantError when none is active."""

    def get_queryset(self):
        return super().get_queryset().filter(tenant=current_tenant())
