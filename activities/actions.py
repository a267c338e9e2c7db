"""Writes to tasks and notifications: one action per operation (see customers.actions for the shared rules).

Every task write goes through crm.records.actions (rights, validation, history,
one audit event, one transaction). Notifications are delivered inside the
action that causes them (activities.notify), so they commit or roll back with it.
"""

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from activities import notify
from activities.models import (
    PARENTS,
    PENDING_DUE_SQL,
    PENDING_REMINDER_SQL,
    Kind,
    Notification,
    NotificationPreference,
    Task,
)
from audit.events import record as audit
from audit.models import AuditEvent
from crm.history.bulk import write_bulk_history
from crm.records import actions as records
from crm.tenancy.acting import action
from crm.tenancy.context import current_tenant
from crm.tenancy.models import Membership

IDS_IN_EVENT = records.IDS_IN_EVENT


def _check_links(values: dict, user) -> None:
    """At most one parent, visible to the user; the assignee a member of the company."""
    parents = [name for name in PARENTS if values.get(name) is not None]
    if len(parents) > 1:
        raise ValidationError(_("A task hangs off one record at most."))
    for name in parents:
        parent = values[name]
        if user is not None and not type(parent).objects.for_user(user, "view").filter(pk=parent.pk).exists():
            raise ValidationError({name: _("That record is not visible to you.")})
    assignee = values.get("assignee")
    if assignee is not None and not Membership.objects.filter(tenant=current_tenant(), user=assignee).exists():
        raise ValidationError({"assignee": _("The assignee must be a member of the company.")})


def _schedule(task: Task, values: dict) -> dict:
    """When the due time or the early reminder changes, the reminders are due again."""
    due_at = values.get("due_at", task.due_at)
    before = values.get("remind_before", task.remind_before)
    remind_at = due_at - timedelta(minutes=before) if due_at and before else None
    if due_at != task.due_at or remind_at != task.remind_at:
        values.update(remind_at=remind_at, reminded_at=None, due_notified_at=None)
    return values


@action
def create_task(*, acting_user, **values) -> Task:
    values.setdefault("assignee", acting_user)
    _check_links(values, acting_user)
    values = _schedule(Task(), values)
    if values.get("done"):
        values["completed_at"] = timezone.now()
    return records.create(Task, acting_user=acting_user, created_by=acting_user, **values)


@action
def update_task(task: Task, *, acting_user, **values) -> Task:
    linked = {name: values.get(name, getattr(task, name)) for name in PARENTS}
    if any(name in values for name in PARENTS):
        records.require(acting_user, "change", Task, task)
        _check_links({**linked, "assignee": values.get("assignee")}, acting_user)
    elif values.get("assignee") is not None:
        _check_links({"assignee": values["assignee"]}, acting_user)
    if "done" in values and values["done"] != task.done:
        values["completed_at"] = timezone.now() if values["done"] else None
    return records.update(task, acting_user=acting_user, **_schedule(task, values))


@action
def complete_task(task: Task, *, acting_user) -> Task:
    """The list's one-click "done"."""
    return update_task(task, done=True, acting_user=acting_user)


@action
def reopen_task(task: Task, *, acting_user) -> Task:
    return update_task(task, done=False, acting_user=acting_user)


@action
def add_follow_up(parent, title: str, due_at, *, acting_user) -> Task | None:
    """The "add a follow-up task" of Log a call and Move stage: nothing without a title."""
    title = (title or "").strip()
    if not title:
        return None
    return create_task(title=title, due_at=due_at, acting_user=acting_user, **{parent._meta.model_name: parent})


@action
def log_call(customer, *, acting_user, follow_up_title="", follow_up_due_at=None, **values):
    """Log a call (or any interaction) and its optional follow-up task, in one transaction."""
    from customers.actions import log_interaction

    with transaction.atomic():
        interaction = log_interaction(customer, acting_user=acting_user, **values)
        add_follow_up(customer, follow_up_title, follow_up_due_at, acting_user=acting_user)
    return interaction


@action
def move_stage(
    opportunity,
    stage,
    lost_reason="",
    lost_reason_choice="",
    *,
    acting_user,
    follow_up_title="",
    follow_up_due_at=None,
    expected_version=None,
):
    """Move a deal to a stage (recording why it was lost) and add its optional follow-up task, in one
    transaction. `expected_version`: the version the user saw (VersionConflict when it moved on)."""
    from sales.actions import lose_opportunity, move_opportunity
    from sales.models import Opportunity

    with transaction.atomic():
        if stage == Opportunity.Stage.LOST:
            opportunity = lose_opportunity(
                opportunity,
                lost_reason=lost_reason,
                lost_reason_choice=lost_reason_choice,
                acting_user=acting_user,
                expected_version=expected_version,
            )
        else:
            opportunity = move_opportunity(
                opportunity, stage, acting_user=acting_user, expected_version=expected_version
            )
        add_follow_up(opportunity, follow_up_title, follow_up_due_at, acting_user=acting_user)
    return opportunity


# -- reminders --------------------------------------------------------------------------------------

# Claim the due rows and mark them in one statement: a row is returned to exactly one caller,
# however many workers run the job at once or again after a restart. The partial indexes
# (task_due_pending, task_remind_pending) hold exactly the rows still waiting.
_CLAIM = """
UPDATE activities_task SET {mark} = %(now)s
WHERE tenant_id = %(tenant)s AND {time} <= %(now)s AND {pending}
RETURNING id, assignee_id, title
"""


def _claim(tenant_id, now, *, time: str, mark: str, pending: str) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(_CLAIM.format(mark=mark, time=time, pending=pending), {"now": now, "tenant": tenant_id})
        return cursor.fetchall()


@action
def send_reminders(now=None, *, acting_user) -> int:
    """The active company's reminders that are due: each once, with a notification to the assignee."""
    tenant = current_tenant()
    now = now or timezone.now()
    with transaction.atomic():
        early = _claim(tenant.pk, now, time="remind_at", mark="reminded_at", pending=PENDING_REMINDER_SQL)
        due = _claim(tenant.pk, now, time="due_at", mark="due_notified_at", pending=PENDING_DUE_SQL)
        if not early and not due:
            return 0
        ids = sorted({row[0] for row in (*early, *due)})
        fields = (("due_notified_at", due), ("reminded_at", early))
        write_bulk_history(Task, ids, "~", "reminded")
        for rows, is_early in ((early, True), (due, False)):
            notify.deliver(
                [(assignee, "task", pk, title) for pk, assignee, title in rows if assignee],
                Kind.TASK_DUE,
                early=is_early,
            )
        audit(
            AuditEvent.Action.UPDATE,
            object_type="task",
            count=len(ids),
            detail={"ids": ids[:IDS_IN_EVENT], "fields": [name for name, rows in fields if rows]},
        )
    return len(early) + len(due)


# -- notifications -------------------------------------------------------------------------------------


@action
def mark_read(notifications, *, acting_user) -> int:
    """Mark the acting user's unread notifications among `notifications` read (one UPDATE)."""
    with transaction.atomic():
        unread = notifications.filter(user=acting_user, read_at__isnull=True)
        ids = list(unread.order_by("pk").values_list("pk", flat=True)[: IDS_IN_EVENT * 10])
        if not ids:
            return 0
        count = Notification.objects.filter(pk__in=ids).update(read_at=timezone.now())
        audit(
            AuditEvent.Action.UPDATE,
            object_type="notification",
            count=count,
            detail={"ids": ids[:IDS_IN_EVENT], "fields": ["read_at"]},
        )
    return count


@action
def set_email_preferences(kinds, *, acting_user) -> list[str]:
    """Email the acting user the notifications of `kinds` (and no others); returns the kinds changed."""
    wanted = set(kinds)
    if wanted - set(Kind.values):
        raise ValidationError(_("Unknown kind of notification."))
    tenant = current_tenant()
    with transaction.atomic():
        stored = dict(NotificationPreference.objects.filter(user=acting_user).values_list("kind", "email"))
        changed = [kind for kind in Kind.values if stored.get(kind, False) != (kind in wanted)]
        for kind in changed:
            NotificationPreference.objects.update_or_create(
                tenant=tenant, user=acting_user, kind=kind, defaults={"email": kind in wanted}
            )
        if changed:
            audit(
                AuditEvent.Action.SETTINGS,
                object_type="notificationpreference",
                detail={"fields": changed, "user_id": acting_user.pk},
            )
    return changed
