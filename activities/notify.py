"""Delivering notifications: rows in the app now, email after the commit (Celery), per preference.

`deliver` runs inside the action that causes it (an assignment, a share, the
reminder job), so a rolled-back action notifies nobody. The hooks at the bottom
are connected in ActivitiesConfig.ready(): they notice assignments in the
history rows every save writes, and shares as they are created.
"""

from functools import partial

from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from activities.models import Kind, Notification, NotificationPreference
from crm.records.registry import record_type
from crm.tenancy.context import activate, current_tenant, current_tenant_or_none, get_context

# What a job_finished notification is about (its object_type): an import, or a restore run.
JOB_IMPORT, JOB_RESTORE = "import", "restorerun"

# Who a record is assigned to, per record type (a change notifies the new person).
ASSIGNED_FIELD = {"customer": "owner", "opportunity": "owner", "ticket": "assignee", "task": "assignee"}


def deliver(recipients, kind: str, *, early: bool = False) -> list[int]:
    """recipients: (user id, record type, record id, label) each; one INSERT, and the emails queued on commit."""
    if not recipients:
        return []
    tenant = current_tenant()
    created = Notification.objects.bulk_create(
        Notification(
            tenant=tenant,
            user_id=user_id,
            kind=kind,
            object_type=object_type,
            object_id=object_id,
            label=str(label)[:200],
            early=early,
        )
        for user_id, object_type, object_id, label in recipients
    )
    by_email = set(
        NotificationPreference.objects.filter(
            user_id__in={row[0] for row in recipients}, kind=kind, email=True
        ).values_list("user_id", flat=True)
    )
    ids = [notification.pk for notification in created if notification.user_id in by_email]
    if ids:
        from activities.tasks import email_notifications

        transaction.on_commit(partial(email_notifications.delay, ids))
    return [notification.pk for notification in created]


def job_finished(tenant, user_id, object_type: str, object_id: int, label: str) -> None:
    """The person who started an import or a restore is told it has finished (however it ended:
    the page it links to says how). Works from any context: the job's worker, or a sweep."""
    if not user_id or tenant is None:
        return
    if getattr(current_tenant_or_none(), "pk", None) == tenant.pk:
        deliver([(user_id, object_type, object_id, label)], Kind.JOB_FINISHED)
        return
    with activate(tenant, process=get_context().process or "notify", reason="job finished"):
        deliver([(user_id, object_type, object_id, label)], Kind.JOB_FINISHED)


def message(notification) -> str:
    """What the notification says, in the active language."""
    label = notification.label
    if notification.kind == Kind.TASK_DUE:
        if notification.early:
            return _("Task “%(label)s” is due soon.") % {"label": label}
        return _("Task “%(label)s” is due now.") % {"label": label}
    if notification.kind == Kind.POOL_RECLAIM:
        return _("Customer “%(label)s” returns to the public pool soon: log an interaction to keep it.") % {
            "label": label
        }
    if notification.kind == Kind.SHARED:
        return _("Customer “%(label)s” is shared with you.") % {"label": label}
    if notification.kind == Kind.JOB_FINISHED:
        if notification.object_type == JOB_RESTORE:
            return _("Your restore from the backup of %(label)s has finished.") % {"label": label}
        return _("Your import “%(label)s” has finished.") % {"label": label}
    if notification.kind == Kind.ASSIGNED and notification.object_id is None and label.isdigit():
        # A bulk assignment of many customers at once (customers.actions.bulk_assign_owner).
        return _("%(count)s customers are now assigned to you.") % {"count": label}
    if notification.kind == Kind.TICKET_REPLY:
        return _("Ticket “%(label)s” has a new reply.") % {"label": label}
    if notification.kind == Kind.TICKET_OVERDUE:
        return _("Ticket “%(label)s” is past its due time.") % {"label": label}
    entry = record_type(notification.object_type)
    noun = entry.verbose_name if entry else notification.object_type
    return _("The %(type)s “%(label)s” is now assigned to you.") % {"type": noun, "label": label}


def link(notification) -> str:
    if notification.kind == Kind.JOB_FINISHED and notification.object_id:
        name = "backups:restore_status" if notification.object_type == JOB_RESTORE else "imports:detail"
        return reverse(name, args=[notification.object_id])
    if notification.kind == Kind.ASSIGNED and notification.object_type == "customer" and not notification.object_id:
        return f"{reverse('customers:list')}?owner={notification.user_id}"  # a bulk assignment: their customers
    entry = record_type(notification.object_type)
    if entry is None or not notification.object_id:
        return ""
    return entry.model(pk=notification.object_id).get_absolute_url()


# -- hooks ---------------------------------------------------------------------------------------------


def on_history_row(sender, instance, history_instance, **kwargs):
    """simple-history's post_create_historical_record: a new owner or assignee is told."""
    name = instance._meta.model_name
    field = ASSIGNED_FIELD.get(name)
    if field is None or history_instance.history_type not in ("+", "~"):
        return
    new = getattr(instance, f"{field}_id")
    if new is None or new == getattr(get_context().user, "pk", None):
        return  # nobody, or the person who made the change
    if history_instance.history_type == "~":
        previous = history_instance.prev_record
        if previous is not None and getattr(previous, f"{field}_id") == new:
            return
    deliver([(new, name, instance.pk, str(instance))], Kind.ASSIGNED)


def on_share(sender, instance, created, raw=False, **kwargs):
    """post_save of customers.CustomerShare: the member it was shared with is told."""
    context = get_context()
    # Outside a company's context (system code) a share is no one's news.
    if not created or raw or context.tenant is None or instance.user_id == getattr(context.user, "pk", None):
        return
    customer = instance.customer
    deliver([(instance.user_id, "customer", customer.pk, customer.name)], Kind.SHARED)


def on_purge(sender, tenant_ids, ids, **kwargs):
    """crm.records.signals.records_purged: a purged record's name leaves the notifications about it too."""
    from crm.records.erasure import MARK

    entry = record_type(sender)
    if entry is None:
        return
    Notification.all_objects.filter(tenant_id__in=tenant_ids, object_type=entry.name, object_id__in=list(ids)).exclude(
        label=MARK
    ).update(label=MARK)
