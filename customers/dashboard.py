"""The dashboard's ticket and activity panels, each one query through the restricting querysets."""

from django.db.models import Count, Q
from django.utils import timezone

from crm.records.registry import DashboardPanel
from crm.web.dashboard import end_of_today
from customers.models import Interaction, Ticket

RECENT_ACTIVITY = 10
MY_ITEMS = 10
DUE_ITEMS = 10  # tickets shown in "due today" and "overdue"; the count covers all


def my_tickets(user) -> dict:
    tickets = Ticket.objects.for_user(user).open()
    return {"my_tickets": tickets.filter(assignee=user).select_related("customer").order_by("due_at", "id")[:MY_ITEMS]}


def tickets_due(user) -> dict:
    """Open tickets due today and overdue: the first few of each, and how many there are (one query)."""
    tickets = Ticket.objects.for_user(user).open()
    now, end_of_day = timezone.now(), end_of_today()
    counts = tickets.aggregate(
        due_today=Count("id", filter=Q(due_at__gte=now, due_at__lt=end_of_day)),
        overdue=Count("id", filter=Q(due_at__lt=now)),
    )
    return {
        "tickets_due_today": tickets.filter(due_at__gte=now, due_at__lt=end_of_day)
        .select_related("customer", "assignee")
        .order_by("due_at", "id")[:DUE_ITEMS],
        "tickets_due_today_count": counts["due_today"],
        "tickets_overdue": tickets.filter(due_at__lt=now)
        .select_related("customer", "assignee")
        .order_by("due_at", "id")[:DUE_ITEMS],
        "tickets_overdue_count": counts["overdue"],
    }


def recent_activity(user) -> dict:
    return {
        "recent_activity": Interaction.objects.for_user(user)
        .select_related("customer", "author", "contact")
        .order_by("-occurred_at", "-id")[:RECENT_ACTIVITY]
    }


def _no_data(user) -> dict:
    return {}


PANELS = (
    DashboardPanel("customers/_dashboard_my_tickets.html", my_tickets, column="left", order=20),
    DashboardPanel("customers/_dashboard_due_today.html", tickets_due, column="right", order=10),
    DashboardPanel("customers/_dashboard_overdue.html", _no_data, column="right", order=11),
    DashboardPanel("customers/_dashboard_recent_activity.html", recent_activity, column="right", order=30),
)
