from celery import shared_task
from django.db import connection


@shared_task
def heartbeat() -> str:
    """Beat's liveness probe: proves worker, broker and database are reachable."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return "ok"
