"""The audit log's retention task (Celery beat; the work is audit.actions.prune_expired)."""

import logging

from celery import shared_task

from audit.actions import prune_expired, record_chain_heads
from crm.tenancy.context import activate

log = logging.getLogger(__name__)


@shared_task
def prune_audit_log() -> dict[str, int]:
    """Daily: drop each chain's audit events past the retention period, checkpoint first."""
    dropped = prune_expired(process="celery:prune_audit_log", acting_user=None)
    for chain, count in dropped.items():
        if count:
            log.info("audit retention %s: %s events dropped", chain, count)
    return dropped


@shared_task
def checkpoint_chain_heads() -> dict:
    """Nightly, after the retention: write each chain's head down outside the event tables (audit.heads)."""
    with activate(None, process="celery:checkpoint_chain_heads", reason="audit chain heads"):
        result = record_chain_heads(acting_user=None)
    for line in result["broken"]:
        log.error("audit chain head not moved: %s", line)
    return result
