"""The dashboard's figures, each one query through the restricting querysets.

Lists are bounded (the newest/most urgent few) and come with their total count,
so the page costs the same number of queries however much data a tenant has.
"""

from datetime import datetime, time, timedelta

from django.db.models import Count, Q, Sum
from django.utils import timezone

from crm.permissions import role_may
from crm.tenancy.querysets import membership_for
from customers.models import Interaction, Ticket
from sales.models import Opportunity

RECENT_ACTIVITY = 10
MY_ITEMS = 10
DUE_ITEMS = 10  # tickets shown in "due today" and "overdue"; the count covers all


def end_of_today():
    today = timezone.localdate()
    return timezone.make_aware(datetime.combine(today + timedelta(days=1), time.min))


def pipeline_by_stage(opportunities):
    rows = (
        opportunities.filter(stage__in=Opportunity.OPEN_STAGES)
        .values("stage", "currency")
        .annotate(count=Count("id"), total=Sum("amount"))
        .order_by("stage", "currency")
    )
    labels = dict(Opportunity.Stage.choices)
    by_stage = {
        stage: {"stage": stage, "label": labels[stage], "count": 0, "totals": []} for stage in Opportunity.OPEN_STAGES
    }
    for row in rows:
        entry = by_stage[row["stage"]]
        entry["count"] += row["count"]
        entry["totals"].append({"currency": row["currency"], "amount": row["total"]})
    return list(by_stage.values())


def ticket_due_counts(tickets, now, end_of_day) -> dict:
    """How many open tickets are due today and overdue: one query."""
    return tickets.aggregate(
        due_today=Count("id", filter=Q(due_at__gte=now, due_at__lt=end_of_day)),
        overdue=Count("id", filter=Q(due_at__lt=now)),
    )


def for_user(user):
    membership = membership_for(user)
    sees_pipeline = bool(membership) and role_may(membership.role, "view", "opportunity")
    opportunities = Opportunity.objects.for_user(user)
    tickets = Ticket.objects.for_user(user).open()
    now = timezone.now()
    end_of_day = end_of_today()
    counts = ticket_due_counts(tickets, now, end_of_day)
    return {
        "sees_pipeline": sees_pipeline,
        "my_opportunities": opportunities.filter(owner=user, stage__in=Opportunity.OPEN_STAGES)
        .select_related("customer")
        .order_by("expected_close_date", "id")[:MY_ITEMS],
        "my_tickets": tickets.filter(assignee=user).select_related("customer").order_by("due_at", "id")[:MY_ITEMS],
        "pipeline": pipeline_by_stage(opportunities) if sees_pipeline else [],
        "tickets_due_today": tickets.filter(due_at__gte=now, due_at__lt=end_of_day)
        .select_related("customer", "assignee")
        .order_by("due_at", "id")[:DUE_ITEMS],
        "tickets_due_today_count": counts["due_today"],
        "tickets_overdue": tickets.filter(due_at__lt=now)
        .select_related("customer", "assignee")
        .order_by("due_at", "id")[:DUE_ITEMS],
        "tickets_overdue_count": counts["overdue"],
        "today": timezone.localdate(),
        "recent_activity": Interaction.objects.for_user(user)
        .select_related("customer", "author", "contact")
        .order_by("-occurred_at", "-id")[:RECENT_ACTIVITY],
    }
