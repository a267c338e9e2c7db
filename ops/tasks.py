from celery import shared_task
from django.db import connection

from ops import heartbeat as beats


@shared_task(name=beats.TASK)
def heartbeat(source: str = "") -> str:
    """Proves worker, broker and database work: beat sends it every 20 s, health probes on demand."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    beats.record(beats.WORKER_KEY)
    return "ok"
