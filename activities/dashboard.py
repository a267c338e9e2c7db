"""The dashboard's "My tasks": overdue, today and upcoming, a few of each and how many (one query each)."""

from datetime import timedelta

from django.db.models import Count, Q
from django.utils import timezone

from activities.models import Task
from crm.records.registry import DashboardPanel
from crm.web.dashboard import end_of_today

SHOWN = 10
UPCOMING_DAYS = 7


def my_open_tasks(user):
    return Task.objects.for_user(user).open().filter(assignee=user)


def buckets(user) -> dict[str, Q]:
    now, end_of_day = timezone.now(), end_of_today()
    return {
        "overdue": Q(due_at__lt=now),
        "today": Q(due_at__gte=now, due_at__lt=end_of_day),
        "upcoming": Q(due_at__gte=end_of_day, due_at__lt=end_of_day + timedelta(days=UPCOMING_DAYS))
        | Q(due_at__isnull=True),
    }


def my_tasks(user) -> dict:
    tasks = my_open_tasks(user)
    conditions = buckets(user)
    counts = tasks.aggregate(**{name: Count("id", filter=condition) for name, condition in conditions.items()})
    shown = list(
        tasks.filter(conditions["overdue"] | conditions["today"] | conditions["upcoming"])
        .order_by("due_at", "id")
        .select_related(*PARENT_RELATIONS)[: SHOWN * 3]
    )
    now, end_of_day = timezone.now(), end_of_today()
    groups = {"overdue": [], "today": [], "upcoming": []}
    for task in shown:
        if task.due_at is not None and task.due_at < now:
            groups["overdue"].append(task)
        elif task.due_at is not None and task.due_at < end_of_day:
            groups["today"].append(task)
        else:
            groups["upcoming"].append(task)
    return {
        "my_tasks": [{"name": name, "tasks": rows[:SHOWN], "count": counts[name]} for name, rows in groups.items()],
        "my_tasks_total": sum(counts.values()),
        "now": now,
    }


PARENT_RELATIONS = ("customer", "contact", "opportunity", "ticket")

PANELS = (DashboardPanel("activities/_dashboard_my_tasks.html", my_tasks, column="left", order=5),)
