"""Celery tasks of customers: the overdue-ticket job (beat, every minute)."""

import logging

from celery import shared_task

from crm.tenancy.context import activate
from crm.tenancy.models import Tenant
from customers.conversation_actions import notify_overdue_tickets

log = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def notify_overdue() -> int:
    """Every minute: each company's open tickets past their due time, each notified once
    (customers.conversation_actions.notify_overdue_tickets)."""
    sent = 0
    for tenant in Tenant.objects.order_by("pk"):
        with activate(tenant, process="celery:notify_overdue_tickets", reason="overdue tickets"):
            sent += notify_overdue_tickets(acting_user=None)
    if sent:
        log.info("overdue tickets notified: %s", sent)
    return sent
