import logging

from celery import shared_task
from django.db import connection

from ops import heartbeat as beats

logger = logging.getLogger(__name__)


@shared_task(name=beats.TASK)
def heartbeat(source: str = "") -> str:
    """Proves worker, broker and database work: beat sends it every 20 s, health probes on demand."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    beats.record(beats.WORKER_KEY)
    logger.info("heartbeat (%s)", source or "probe")
    return "ok"
