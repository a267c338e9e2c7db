"""The audit log's retention: the one sanctioned way to drop old events (after a checkpoint)."""

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from audit.chain import prune
from crm.tenancy.context import activate
from crm.tenancy.models import Tenant

log = logging.getLogger(__name__)

# The key of the system chain in prune_expired_events() (no tenant slug can look like it).
SYSTEM_CHAIN = "(system)"


def prune_expired_events(process: str, now=None) -> dict[str, int]:
    """{tenant slug, or "(system)": events dropped} for events older than AUDIT_RETENTION_DAYS."""
    before = (now or timezone.now()) - timedelta(days=settings.AUDIT_RETENTION_DAYS)
    dropped = {}
    for tenant in Tenant.objects.order_by("pk"):
        with activate(tenant, process=process, reason="audit retention"):
            dropped[tenant.slug] = prune(tenant, before)
    with activate(None, process=process, reason="audit retention"):
        dropped[SYSTEM_CHAIN] = prune(None, before)
    return dropped


@shared_task
def prune_audit_log() -> dict[str, int]:
    """Daily: drop each chain's audit events past the retention period, checkpoint first."""
    dropped = prune_expired_events("celery:prune_audit_log")
    for chain, count in dropped.items():
        if count:
            log.info("audit retention %s: %s events dropped", chain, count)
    return dropped
