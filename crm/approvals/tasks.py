"""Beat: deletion requests nobody answered in time expire (nothing is deleted; the requester is told)."""

import logging

from celery import shared_task

from crm.approvals.actions import expire_overdue
from crm.approvals.models import ApprovalRequest
from crm.tenancy.context import activate
from crm.tenancy.models import Tenant

log = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def expire_approvals() -> int:
    """Every few minutes: expire overdue requests, company by company (only those that have any)."""
    pending = ApprovalRequest.all_objects.filter(status=ApprovalRequest.Status.PENDING).values("tenant_id")
    expired = 0
    for tenant in Tenant.objects.filter(pk__in=pending).order_by("pk"):
        with activate(tenant, process="celery:expire_approvals", reason="approval expiry"):
            expired += expire_overdue(acting_user=None)
    if expired:
        log.info("expired %s approval requests", expired)
    return expired
