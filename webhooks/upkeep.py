"""The hourly upkeep of deliveries: send again what no worker holds any more, drop old log rows.

A delivery waits in the broker between attempts (Celery's retry with a countdown); a broker
flushed or a message lost leaves it "pending" or "retrying" for ever. Rows whose next attempt
is STUCK_AFTER overdue are queued again (an attempt is recorded once, by a compare-and-set on
its attempt count; a receiver drops a duplicate by the delivery id). Finished rows older than
WEBHOOKS_LOG_DAYS leave the log, CHUNK at a time.
"""

from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from webhooks.models import Delivery

STUCK_AFTER = timedelta(minutes=15)
CHUNK = 10_000
WAITING = (Delivery.Status.PENDING, Delivery.Status.RETRYING)
OVER = (Delivery.Status.DELIVERED, Delivery.Status.FAILED, Delivery.Status.SKIPPED)


def stuck(now=None) -> list[int]:
    """Ids of waiting deliveries whose next attempt is long overdue."""
    late = (now or timezone.now()) - STUCK_AFTER
    overdue = Q(next_retry_at__lt=late) | Q(next_retry_at__isnull=True, created_at__lt=late)
    return list(Delivery.all_objects.filter(overdue, status__in=WAITING).order_by("pk").values_list("pk", flat=True))


def prune(now=None) -> int:
    """Delete finished deliveries older than WEBHOOKS_LOG_DAYS; how many went."""
    before = (now or timezone.now()) - timedelta(days=getattr(settings, "WEBHOOKS_LOG_DAYS", 30))
    old = Delivery.all_objects.filter(status__in=OVER, created_at__lt=before)
    dropped = 0
    while True:
        chunk = list(old.order_by("pk").values_list("pk", flat=True)[:CHUNK])
        if not chunk:
            return dropped
        dropped += Delivery.all_objects.filter(pk__in=chunk)._raw_delete(Delivery.all_objects.db)
