"""The dashboard's figures, each one query through the restricting querysets."""

from datetime import datetime, time, timedelta

from django.db.models import Count, Sum
from django.utils import timezone

from customers.models import Interaction, Ticket
from sales.models import Opportunity

RECENT_ACTIVITY = 10
MY_ITEMS = 10


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


def for_user(user):
    opportunities = Opportunity.objects.for_user(user)
    tickets = Ticket.objects.for_user(user).open()
    now = timezone.now()
    return {
        "my_opportunities": opportunities.filter(owner=user, stage__in=Opportunity.OPEN_STAGES)
        .select_related("customer")
        .order_by("expected_close_date", "id")[:MY_ITEMS],
        "my_tickets": tickets.filter(assignee=user).select_related("customer").order_by("due_at", "id")[:MY_ITEMS],
        "pipeline": pipeline_by_stage(opportunities),
        "tickets_due_today": tickets.filter(due_at__gte=now, due_at__lt=end_of_today())
        .select_related("customer", "assignee")
        .order_by("due_at"),
        "tickets_overdue": tickets.filter(due_at__lt=now).select_related("customer", "assignee").order_by("due_at"),
        "recent_activity": Interaction.objects.for_user(user)
        .select_related("customer", "author", "contact")
        .order_by("-occurred_at", "-id")[:RECENT_ACTIVITY],
    }
