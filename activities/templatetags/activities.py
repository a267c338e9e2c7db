"""Template tags of activities: the header's unread count and a notification's text and link."""

from django import template

from activities import notify
from activities.models import Notification

register = template.Library()


@register.simple_tag(takes_context=True)
def unread_notifications(context) -> int:
    """The signed-in member's unread notifications in this company: one COUNT, whatever the page."""
    user = context["request"].user
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


@register.simple_tag
def notification_text(notification) -> str:
    return notify.message(notification)


@register.simple_tag
def notification_link(notification) -> str:
    return notify.link(notification)


@register.filter
def verbose_name(record) -> str:
    return record._meta.verbose_name
