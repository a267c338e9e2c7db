import logging

from celery import shared_task

from crm.recyclebin.actions import purge_expired
from crm.tenancy.context import activate
from crm.tenancy.models import Tenant

log = logging.getLogger(__name__)


def purge_expired_everywhere(process: str) -> dict[str, dict[str, int] | None]:
    """{tenant slug: {type: count}, or None for a tenant on legal hold}."""
    results = {}
    for tenant in Tenant.objects.order_by("pk"):
        with activate(tenant, process=process, reason="retention"):
            results[tenant.slug] = purge_expired(tenant)
    return results


@shared_task(ignore_result=True)
def purge_recycle_bin() -> None:
    """Daily: purge recycle-bin items past each tenant's retention period."""
    for slug, counts in purge_expired_everywhere("celery:purge_recycle_bin").items():
        if counts:
            log.info("retention purge %s: %s", slug, counts)
