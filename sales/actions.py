"""Writes to opportunities: one function per operation."""

from django.utils import timezone

from crm import records
from customers.models import Customer
from sales.models import Opportunity


def stage_values(opportunity: Opportunity, stage: str, *, probability=None) -> dict:
    """Entering a stage suggests its probability; won and lost close the deal."""
    values = {"stage": stage}
    values["probability"] = Opportunity.STAGE_PROBABILITY[stage] if probability is None else probability
    if stage in Opportunity.CLOSED_STAGES:
        values["closed_at"] = opportunity.closed_at or timezone.now()
    else:
        values["closed_at"] = None
        values["lost_reason"] = ""
    return values


def create_opportunity(customer: Customer, **values) -> Opportunity:
    opportunity = Opportunity(customer=customer)
    values.update(
        stage_values(opportunity, values.get("stage", Opportunity.Stage.LEAD), probability=values.get("probability"))
    )
    return records.create(Opportunity, customer=customer, tenant_id=customer.tenant_id, **values)


def update_opportunity(opportunity: Opportunity, **values) -> Opportunity:
    if "stage" in values and values["stage"] != opportunity.stage:
        values.update(stage_values(opportunity, values["stage"], probability=values.get("probability")))
    return records.update(opportunity, **values)


def move_opportunity(opportunity: Opportunity, stage: str) -> Opportunity:
    """The pipeline board's drag and drop."""
    return update_opportunity(opportunity, stage=stage)


def lose_opportunity(opportunity: Opportunity, lost_reason: str = "") -> Opportunity:
    """Move a deal to "lost", recording why when a reason is given (an empty one keeps the old reason)."""
    values = {"stage": Opportunity.Stage.LOST}
    if lost_reason:
        values["lost_reason"] = lost_reason
    return update_opportunity(opportunity, **values)
