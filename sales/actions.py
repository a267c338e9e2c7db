"""Writes to opportunities: one action per operation (see customers.actions for the shared rules)."""

from django.db.models import DateTimeField, F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from crm.records import actions as records
from crm.tenancy.acting import action
from customers.actions import create_child, update_child
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


@action
def create_opportunity(customer: Customer, *, acting_user, **values) -> Opportunity:
    values.setdefault("owner", acting_user)
    stage = values.get("stage", Opportunity.Stage.LEAD)
    values.update(stage_values(Opportunity(customer=customer), stage, probability=values.get("probability")))
    return create_child(Opportunity, customer, acting_user=acting_user, **values)


@action
def update_opportunity(opportunity: Opportunity, *, acting_user, **values) -> Opportunity:
    if "stage" in values and values["stage"] != opportunity.stage:
        values.update(stage_values(opportunity, values["stage"], probability=values.get("probability")))
    return update_child(opportunity, acting_user=acting_user, **values)


@action
def move_opportunity(opportunity: Opportunity, stage: str, *, acting_user, expected_version=None) -> Opportunity:
    """The pipeline board's drag and drop; with `expected_version` (what the card showed), a deal
    changed since is not moved (VersionConflict)."""
    return update_opportunity(opportunity, stage=stage, acting_user=acting_user, expected_version=expected_version)


@action
def lose_opportunity(
    opportunity: Opportunity, lost_reason: str = "", *, acting_user, expected_version=None
) -> Opportunity:
    """Move a deal to "lost", recording why when a reason is given (an empty one keeps the old reason)."""
    values = {"stage": Opportunity.Stage.LOST, "expected_version": expected_version}
    if lost_reason:
        values["lost_reason"] = lost_reason
    return update_opportunity(opportunity, acting_user=acting_user, **values)


@action
def bulk_move_opportunities(opportunities, stage: str, *, acting_user) -> int:
    """Move the deals of `opportunities` that are not in `stage` there, as stage_values() would one by
    one: one set-based UPDATE with a history row each and one audit event. Returns how many moved."""
    values = {"stage": stage, "probability": Opportunity.STAGE_PROBABILITY[stage]}
    if stage in Opportunity.CLOSED_STAGES:
        values["closed_at"] = Coalesce(F("closed_at"), Value(timezone.now()), output_field=DateTimeField())
    else:
        values.update(closed_at=None, lost_reason="")
    return records.update_many(opportunities.exclude(stage=stage), acting_user=acting_user, **values)
