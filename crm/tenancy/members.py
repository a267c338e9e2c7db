"""The people of the active company: who they are called, and who may be chosen."""

from django.contrib.auth import get_user_model

from crm.tenancy.context import current_tenant
from crm.tenancy.roles import Role


def display_name(user) -> str:
    """How a person is named on every page: full name, else username ("" for nobody)."""
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def tenant_members():
    """Users with a membership in the active company."""
    return get_user_model().objects.filter(memberships__tenant=current_tenant()).order_by("username")


def tenant_managers():
    """Active users holding the manager role in the active company (one join: same membership row)."""
    return (
        get_user_model()
        .objects.filter(memberships__tenant=current_tenant(), memberships__role=Role.MANAGER, is_active=True)
        .order_by("username")
    )
