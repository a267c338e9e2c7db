"""Celery tasks of activities: the reminder job (beat, every minute) and notification emails."""

import logging

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.utils import translation

from activities import notify
from activities.actions import send_reminders
from activities.models import Notification
from crm.tenancy.context import activate
from crm.tenancy.models import Tenant, UserPreference

log = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def send_due_reminders() -> int:
    """Every minute: each company's due reminders, each sent once (activities.actions.send_reminders)."""
    sent = 0
    for tenant in Tenant.objects.order_by("pk"):
        with activate(tenant, process="celery:send_due_reminders", reason="reminders"):
            sent += send_reminders(acting_user=None)
    if sent:
        log.info("reminders sent: %s", sent)
    return sent


@shared_task(ignore_result=True)
def email_notifications(ids: list[int]) -> int:
    """Email these notifications, each in its reader's language, through Django's email backend."""
    notifications = Notification.all_objects.filter(pk__in=ids).select_related("user").order_by("pk")
    languages = dict(
        UserPreference.objects.filter(user__in={n.user_id for n in notifications}).values_list("user_id", "language")
    )
    sent = 0
    for notification in notifications:
        if not notification.user.email:
            continue
        with translation.override(languages.get(notification.user_id) or settings.LANGUAGE_CODE):
            text = notify.message(notification)
            body = "\n\n".join(part for part in (text, notify.link(notification)) if part)
            sent += send_mail(text, body, None, [notification.user.email])
    return sent
