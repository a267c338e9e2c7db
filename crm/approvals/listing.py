"""Who sees which approval requests: admins all, managers bulk deletes, everyone their own."""

from django.db.models import Q

from crm.approvals.models import ApprovalRequest
from crm.tenancy.acting import member_role
from crm.tenancy.roles import Role


def visible_to(user):
    """The active company's requests `user` may see (any other is a 404)."""
    rows = ApprovalRequest.objects.select_related("requested_by", "decided_by")
    role = member_role(user)
    if role == Role.ADMIN:
        return rows
    mine = Q(requested_by=user)
    if role == Role.MANAGER:
        return rows.filter(mine | Q(kind=ApprovalRequest.Kind.BULK_DELETE))
    return rows.filter(mine)


def deciders_see_pending(user) -> int:
    """How many requests wait for an answer `user` could give (the navigation's badge)."""
    role = member_role(user)
    if role not in (Role.ADMIN, Role.MANAGER):
        return 0
    return visible_to(user).filter(status=ApprovalRequest.Status.PENDING).exclude(requested_by=user).count()
