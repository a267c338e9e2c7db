"""Tasks (with their reminders), notifications and each member's notification preferences."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from activities.querysets import TaskQuerySet
from crm.history.tracing import TracedHistory
from crm.records.models import (
    PurgePermissionBase,
    SoftDeleteModel,
    managers_for,
    soft_delete_indexes,
    tenant_foreign_key,
)
from crm.tenancy.models import TenantModel
from customers.search import trigram_indexes

PARENTS = ("customer", "contact", "opportunity", "ticket")

# Open tasks whose reminder has not gone out: the reminder job's partial indexes hold only these.
PENDING_DUE = Q(done=False, deleted_at__isnull=True, due_at__isnull=False, due_notified_at__isnull=True)
PENDING_REMINDER = Q(done=False, deleted_at__isnull=True, remind_at__isnull=False, reminded_at__isnull=True)
# The same conditions as SQL, for the reminder job's claiming UPDATE (the planner matches them to the indexes).
PENDING_DUE_SQL = "NOT done AND deleted_at IS NULL AND due_at IS NOT NULL AND due_notified_at IS NULL"
PENDING_REMINDER_SQL = "NOT done AND deleted_at IS NULL AND remind_at IS NOT NULL AND reminded_at IS NULL"


def _user(verbose_name, **kwargs):
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=verbose_name,
        db_index=False,
        **kwargs,
    )


def _parent(model, verbose_name):
    return tenant_foreign_key(
        model, on_delete=models.PROTECT, null=True, blank=True, related_name="tasks", verbose_name=verbose_name
    )


def _at_most_one_parent() -> models.CheckConstraint:
    both = Q()
    for index, first in enumerate(PARENTS):
        for second in PARENTS[index + 1 :]:
            both |= Q(**{f"{first}__isnull": False, f"{second}__isnull": False})
    return models.CheckConstraint(condition=~both, name="task_at_most_one_parent")


class Task(SoftDeleteModel):
    class Priority(models.TextChoices):
        LOW = "low", _("Low")
        NORMAL = "normal", _("Normal")
        HIGH = "high", _("High")

    class RemindBefore(models.IntegerChoices):
        MINUTES_15 = 15, _("15 minutes before")
        HOUR = 60, _("1 hour before")
        DAY = 1440, _("1 day before")

    title = models.CharField(_("title"), max_length=200)
    notes = models.TextField(_("notes"), max_length=10000, blank=True)
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    remind_before = models.PositiveIntegerField(
        _("early reminder"), choices=RemindBefore.choices, null=True, blank=True
    )
    # Set by the actions from due_at and remind_before; the reminder job claims them once each.
    remind_at = models.DateTimeField(_("remind at"), null=True, blank=True, editable=False)
    reminded_at = models.DateTimeField(_("reminded at"), null=True, blank=True, editable=False)
    due_notified_at = models.DateTimeField(_("due notice sent at"), null=True, blank=True, editable=False)
    assignee = _user(_("assignee"))
    created_by = _user(_("created by"), editable=False)
    priority = models.CharField(_("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    done = models.BooleanField(_("done"), default=False)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True, editable=False)
    customer = _parent("customers.Customer", _("customer"))
    contact = _parent("customers.Contact", _("contact"))
    opportunity = _parent("sales.Opportunity", _("opportunity"))
    ticket = _parent("customers.Ticket", _("ticket"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects, deleted, all_objects = managers_for(TaskQuerySet)
    history = TracedHistory()

    class Meta(SoftDeleteModel.Meta):
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        permissions = [("purge_task", "Can permanently delete task")]
        ordering = ["done", "due_at", "id"]
        constraints = [_at_most_one_parent()]
        indexes = [
            *soft_delete_indexes("task"),
            models.Index(fields=["tenant", "assignee", "done", "due_at"], name="task_tenant_assignee"),
            models.Index(fields=["tenant", "done", "due_at", "id"], name="task_tenant_open"),
            *(models.Index(fields=["tenant", parent], name=f"task_tenant_{parent}") for parent in PARENTS),
            models.Index(fields=["tenant", "due_at"], condition=PENDING_DUE, name="task_due_pending"),
            models.Index(fields=["tenant", "remind_at"], condition=PENDING_REMINDER, name="task_remind_pending"),
            *trigram_indexes("task", ["title"]),  # the task list's (and global search's) `q`
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("tasks:detail", args=[self.pk])

    @property
    def parent(self):
        for name in PARENTS:
            if getattr(self, f"{name}_id"):
                return getattr(self, name)
        return None


class TaskPurgePermission(PurgePermissionBase):
    content_object = tenant_foreign_key(Task, on_delete=models.CASCADE)

    class Meta(PurgePermissionBase.Meta):
        indexes = [models.Index(fields=["tenant", "content_object"], name="taskpurge_object")]


class Kind(models.TextChoices):
    """What a notification is about; preferences are per kind."""

    ASSIGNED = "assigned", _("A record is assigned to me")
    TASK_DUE = "task_due", _("A task of mine is due")
    SHARED = "shared", _("A customer is shared with me")
    TICKET_REPLY = "ticket_reply", _("A ticket I own gets a reply")
    TICKET_OVERDUE = "ticket_overdue", _("A ticket I own passes its due time")
    JOB_FINISHED = "job_finished", _("An import or restore I started finishes")
    POOL_RECLAIM = "pool_reclaim", _("A customer of mine is about to return to the pool")


class Notification(TenantModel):
    """One message for one member of one company; `label` names the record as it was then."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    object_type = models.CharField(_("record type"), max_length=50, blank=True)
    object_id = models.BigIntegerField(_("record id"), null=True, blank=True)
    label = models.CharField(_("record"), max_length=200, blank=True)
    # A reminder says whether it is the early one or the one at the due time.
    early = models.BooleanField(default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta(TenantModel.Meta):
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "user", "-created_at", "-id"], name="notification_inbox"),
            models.Index(fields=["tenant", "user"], condition=Q(read_at__isnull=True), name="notification_unread"),
            # A purge finds the notifications about the records it deletes.
            models.Index(fields=["tenant", "object_type", "object_id"], name="notification_record"),
        ]

    def __str__(self):
        return self.label or self.get_kind_display()


class NotificationPreference(TenantModel):
    """Whether a member also gets a kind of notification by email (in the app they always do)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    email = models.BooleanField(_("by email"), default=False)

    class Meta(TenantModel.Meta):
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "user", "kind"], name="notificationpreference_uniq"),
        ]
