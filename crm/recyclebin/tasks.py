"""The recycle bin's Celery tasks: the nightly retention purge, and resuming one a dead worker left.

A retention run holds a session-level advisory lock for as long as it works and leaves
a "pending" mark in the cache until it has finished. A worker killed half-way takes
its lock with it but not the mark: the sweep, every few minutes, re-queues the purge,
which carries on where the dead one stopped (each chunk committed on its own) and
purges nothing twice.
"""

import logging
from contextlib import contextmanager

from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

from crm.records.session_locks import is_held, try_lock, unlock
from crm.records.softdelete import BIN_LOCK_NAMESPACE
from crm.recyclebin.actions import purge_expired
from crm.tenancy.context import activate
from crm.tenancy.models import Tenant

log = logging.getLogger(__name__)

RUN_LOCK = (BIN_LOCK_NAMESPACE, 0)  # tenant ids start at 1: key 0 is the retention run's own
PENDING = "recyclebin:retention-pending"


def purge_expired_everywhere(process: str) -> dict[str, dict[str, int] | None]:
    """{tenant slug: {type: count}, or None for a tenant on legal hold}."""
    results = {}
    for tenant in Tenant.objects.order_by("pk"):
        with activate(tenant, process=process, reason="retention"):
            results[tenant.slug] = purge_expired(tenant)
    return results


@contextmanager
def retention_run():
    """Yields True while this process holds the one retention run, False when another one works."""
    if not try_lock(RUN_LOCK):
        yield False
        return
    cache.set(PENDING, timezone.now().isoformat(), timeout=None)
    try:
        yield True
        cache.delete(PENDING)  # finished: nothing to resume (an exception leaves the mark for the sweep)
    finally:
        unlock(RUN_LOCK)


def retention_running() -> bool:
    """Whether a live session holds the retention run's lock."""
    return is_held(RUN_LOCK)


@shared_task(ignore_result=True)
def purge_recycle_bin() -> None:
    """Daily: purge recycle-bin items past each tenant's retention period."""
    with retention_run() as running_here:
        if not running_here:
            log.info("retention purge already running elsewhere")
            return
        for slug, counts in purge_expired_everywhere("celery:purge_recycle_bin").items():
            if counts:
                log.info("retention purge %s: %s", slug, counts)


@shared_task(ignore_result=True)
def resume_interrupted_purge() -> bool:
    """Every few minutes: re-queue a retention purge whose worker died before it finished."""
    if cache.get(PENDING) is None or retention_running():
        return False
    log.warning("resuming a retention purge interrupted at %s", cache.get(PENDING))
    purge_recycle_bin.delay()
    return True
