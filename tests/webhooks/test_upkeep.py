"""The hourly upkeep: deliveries no worker holds any more are found, old finished ones leave the log."""

import uuid
from datetime import timedelta

from django.utils import timezone

from webhooks import upkeep
from webhooks.models import Delivery


def delivery(endpoint, status, *, age, next_retry=None):
    row = Delivery.all_objects.create(
        tenant_id=endpoint.tenant_id, endpoint=endpoint, uid=uuid.uuid4(), event="ping", status=status
    )
    now = timezone.now()
    Delivery.all_objects.filter(pk=row.pk).update(
        created_at=now - age, next_retry_at=None if next_retry is None else now - next_retry
    )
    return row.pk


def test_waiting_deliveries_long_overdue_are_found_again(records):
    endpoint = records.endpoint()
    lost = delivery(endpoint, "retrying", age=timedelta(hours=2), next_retry=timedelta(hours=1))
    never_sent = delivery(endpoint, "pending", age=timedelta(hours=1))
    delivery(endpoint, "retrying", age=timedelta(hours=1), next_retry=timedelta(minutes=1))  # just due
    delivery(endpoint, "pending", age=timedelta(minutes=1))  # just queued
    delivery(endpoint, "failed", age=timedelta(hours=3))  # over
    assert upkeep.stuck() == [lost, never_sent]


def test_finished_deliveries_leave_the_log_after_the_days_set(records, settings):
    settings.WEBHOOKS_LOG_DAYS = 30
    endpoint = records.endpoint()
    old = [delivery(endpoint, status, age=timedelta(days=31)) for status in ("delivered", "failed", "skipped")]
    waiting = delivery(endpoint, "retrying", age=timedelta(days=31), next_retry=timedelta(days=1))
    recent = delivery(endpoint, "delivered", age=timedelta(days=29))
    assert upkeep.prune() == len(old)
    assert sorted(Delivery.all_objects.values_list("pk", flat=True)) == [waiting, recent]
