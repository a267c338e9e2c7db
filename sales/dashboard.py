"""The dashboard's pipeline panels: open deals per stage and currency, and my open deals."""

from django.db.models import Count, Sum

from crm.records.registry import DashboardPanel
from crm.tenancy.querysets import membership_for
from crm.tenancy.roles import role_may
from sales.models import Opportunity

MY_ITEMS = 10


def sees_pipeline(user) -> bool:
    membership = membership_for(user)
    return bool(membership) and role_may(membership.role, "view", "opportunity")


def pipeline_by_stage(opportunities) -> list[dict]:
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


def pipeline(user) -> dict | None:
    if not sees_pipeline(user):
        return None
    return {"pipeline": pipeline_by_stage(Opportunity.objects.for_user(user))}


def my_opportunities(user) -> dict | None:
    if not sees_pipeline(user):
        return None
    return {
        "my_opportunities": Opportunity.objects.for_user(user)
        .filter(owner=user, stage__in=Opportunity.OPEN_STAGES)
        .select_related("customer")
        .order_by("expected_close_date", "id")[:MY_ITEMS]
    }


PANELS = (
    DashboardPanel("sales/_dashboard_pipeline.html", pipeline, column="top", order=0),
    DashboardPanel("sales/_dashboard_my_opportunities.html", my_opportunities, column="left", order=10),
)
