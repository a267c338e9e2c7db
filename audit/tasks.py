"""The audit log's retention task (Celery beat; the work is audit.actions.prune_expired)."""

import logging

from celery import shared_task

from audit.actions import prune_expired

log = logging.getLogger(__name__)


@shared_task
def prune_audit_log() -> dict[str, int]:
    """Daily: drop each chain's audit events past the retention period, checkpoint first."""
    dropped = prune_expired(process="celery:prune_audit_log", acting_user=None)
    for chain, count in dropped.items():
        if count:
            log.info("audit retention %s: %s events dropped", chain, count)
    return dropped
