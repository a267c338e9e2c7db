"""Celery tasks of the public pool: the reclaim job (beat, hourly; pool.reclaim)."""

import logging

from celery import shared_task

from crm.tenancy.context import activate
from crm.tenancy.models import Tenant
from pool.reclaim import reclaim_idle

log = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def reclaim_idle_customers() -> dict:
    """Every company with the pool on: warn the owners of idle customers, return the idle ones."""
    totals = {"reclaimed": 0, "warned": 0}
    for tenant in Tenant.objects.filter(pool_enabled=True).order_by("pk"):
        with activate(tenant, process="celery:pool_reclaim", reason="reclaimed"):
            result = reclaim_idle(acting_user=None)
        totals["reclaimed"] += result.reclaimed
        totals["warned"] += result.warned
    if totals["reclaimed"] or totals["warned"]:
        log.info("pool: %(reclaimed)s customers reclaimed, %(warned)s owners warned", totals)
    return totals
