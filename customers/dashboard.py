"""The dashboard's ticket and activity panels, each one query through the restricting querysets."""

from django.db.models import Count, Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from crm.records.registry import DashboardPanel
from crm.tenancy.context import current_tenant
from crm.tenancy.querysets import membership_for
from crm.tenancy.roles import Role, role_may
from crm.web.dashboard import end_of_today
from customers.models import Customer, Interaction, Ticket

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


def first_steps(user) -> dict | None:
    """A company without customers yet: what to do first (the "welcome" column), else None."""
    membership = membership_for(user)
    if membership is None or Customer.objects.exists():
        return None
    role = membership.role
    tenant = current_tenant()
    return {
        "can_add_customers": role_may(role, "add", "customer"),
        "import_url": _url_if_any("customers:import"),
        "invites": role == Role.ADMIN,
        # Members are managed in the Django admin, which only installation staff can open.
        "members_url": reverse("admin:tenancy_tenant_change", args=[tenant.pk]) if user.is_staff else "",
        "invite_command": f".venv/bin/python manage.py create_user {tenant.slug} USERNAME --role rep --password PW",
    }


def _url_if_any(name: str) -> str:
    try:
        return reverse(name)
    except NoReverseMatch:
        return ""


def _no_data(user) -> dict:
    return {}


PANELS = (
    DashboardPanel("customers/_dashboard_first_steps.html", first_steps, column="welcome", order=0),
    DashboardPanel("customers/_dashboard_my_tickets.html", my_tickets, column="left", order=20),
    DashboardPanel("customers/_dashboard_due_today.html", tickets_due, column="right", order=10),
    DashboardPanel("customers/_dashboard_overdue.html", _no_data, column="right", order=11),
    DashboardPanel("customers/_dashboard_recent_activity.html", recent_activity, column="right", order=30),
)
