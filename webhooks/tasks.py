"""Sending deliveries on a worker, with retries and exponential backoff (webhooks.sending)."""

from celery import shared_task

from crm.tenancy.context import activate
from webhooks.models import Delivery
from webhooks.sending import attempt

OVER = (Delivery.Status.DELIVERED, Delivery.Status.FAILED, Delivery.Status.SKIPPED)


@shared_task(bind=True, name="webhooks.deliver", acks_late=False, max_retries=None)
def deliver(self, delivery_id: int) -> str | None:
    delivery = Delivery.all_objects.select_related("endpoint", "tenant").filter(pk=delivery_id).first()
    if delivery is None or delivery.status in OVER:
        return None
    with activate(delivery.tenant, process="celery:webhook", reason="webhook"):
        wait = attempt(delivery)
    if wait is not None:
        raise self.retry(countdown=wait)
    return Delivery.all_objects.filter(pk=delivery_id).values_list("status", flat=True).first()


@shared_task(name="webhooks.upkeep", acks_late=False)
def upkeep() -> dict:
    """Hourly (beat): queue stuck deliveries again, drop old log rows (webhooks.upkeep)."""
    from webhooks import upkeep as jobs

    again = jobs.stuck()
    for delivery_id in again:
        deliver.delay(delivery_id)
    return {"queued_again": len(again), "pruned": jobs.prune()}
