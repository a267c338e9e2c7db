"""Writes to opportunities: one action per operation (see customers.actions for the shared rules)."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import DateTimeField, F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.events import record
from audit.models import AuditEvent
from crm.records import actions as records
from crm.tenancy.acting import action, require_role
from crm.tenancy.context import current_tenant
from crm.tenancy.roles import TENANT_ADMIN_ROLES
from customers.actions import create_child, owner_unless_given, update_child
from customers.models import Customer
from sales.models import LostReason, Opportunity

MAX_LOST_REASONS = 20


def stage_values(opportunity: Opportunity, stage: str, *, probability=None) -> dict:
    """Entering a stage suggests its probability; won and lost close the deal."""
    values = {"stage": stage}
    values["probability"] = Opportunity.STAGE_PROBABILITY[stage] if probability is None else probability
    if stage in Opportunity.CLOSED_STAGES:
        values["closed_at"] = opportunity.closed_at or timezone.now()
    else:
        values["closed_at"] = None
        values["lost_reason"] = ""
        values["lost_reason_choice"] = ""
    return values


def check_lost_reason(opportunity: Opportunity, values: dict) -> None:
    """A deal moving to "lost" needs a reason: one of the company's list, or free text."""
    if values.get("stage", opportunity.stage) != Opportunity.Stage.LOST:
        return
    choice = values.get("lost_reason_choice", opportunity.lost_reason_choice) or ""
    text = (values.get("lost_reason", opportunity.lost_reason) or "").strip()
    if choice and not LostReason.objects.filter(label=choice).exists():
        raise ValidationError({"lost_reason_choice": _("Choose one of the company's lost reasons.")})
    if not choice and not text:
        raise ValidationError({"lost_reason": _("Say why the deal was lost: choose a reason or describe it.")})


def new_opportunity_values(values: dict, *, added_by) -> dict:
    """The derived values of a new deal (its create action and the importer share them): the owner is
    whoever adds it unless given, and its stage sets the probability (unless given) and closed_at."""
    owner_unless_given(values, added_by)
    stage = values.get("stage", Opportunity.Stage.LEAD)
    values.update(stage_values(Opportunity(), stage, probability=values.get("probability")))
    return values


@action
def create_opportunity(customer: Customer, *, acting_user, **values) -> Opportunity:
    new_opportunity_values(values, added_by=acting_user)
    check_lost_reason(Opportunity(), values)
    return create_child(Opportunity, customer, acting_user=acting_user, **values)


@action
def update_opportunity(opportunity: Opportunity, *, acting_user, **values) -> Opportunity:
    if "stage" in values and values["stage"] != opportunity.stage:
        values.update(stage_values(opportunity, values["stage"], probability=values.get("probability")))
    check_lost_reason(opportunity, values)
    return update_child(opportunity, acting_user=acting_user, **values)


@action
def move_opportunity(opportunity: Opportunity, stage: str, *, acting_user, expected_version=None) -> Opportunity:
    """The pipeline board's drag and drop; with `expected_version` (what the card showed), a deal
    changed since is not moved (VersionConflict)."""
    return update_opportunity(opportunity, stage=stage, acting_user=acting_user, expected_version=expected_version)


@action
def lose_opportunity(
    opportunity: Opportunity,
    lost_reason: str = "",
    *,
    lost_reason_choice: str = "",
    acting_user,
    expected_version=None,
) -> Opportunity:
    """Move a deal to "lost" with why (a reason from the company's list and/or free text; one is required)."""
    values = {
        "stage": Opportunity.Stage.LOST,
        "lost_reason": lost_reason,
        "lost_reason_choice": lost_reason_choice,
        "expected_version": expected_version,
    }
    return update_opportunity(opportunity, acting_user=acting_user, **values)


@action
def set_lost_reasons(labels: list[str], *, acting_user) -> list[LostReason]:
    """Replace the company's list of lost reasons (admins); closed deals keep the label they were given."""
    require_role(acting_user, TENANT_ADMIN_ROLES, _("Only administrators may change company settings."))
    cleaned = list(dict.fromkeys(label.strip() for label in labels if label.strip()))
    if len(cleaned) > MAX_LOST_REASONS:
        raise ValidationError(_("At most %(count)s reasons.") % {"count": MAX_LOST_REASONS})
    if any(len(label) > 100 for label in cleaned):
        raise ValidationError(_("A reason has at most 100 characters."))
    with transaction.atomic():
        previous = list(LostReason.objects.values_list("label", flat=True))
        LostReason.objects.all().delete()
        reasons = LostReason.objects.bulk_create(
            [LostReason(tenant=current_tenant(), label=label, position=i) for i, label in enumerate(cleaned)]
        )
        record(
            AuditEvent.Action.SETTINGS,
            detail={"what": "lost_reasons", "before": len(previous), "after": len(cleaned)},
        )
    return reasons


@action
def bulk_move_opportunities(opportunities, stage: str, *, acting_user) -> int:
    """Move the deals of `opportunities` that are not in `stage` there, as stage_values() would one by
    one: one set-based UPDATE with a history row each and one audit event. Returns how many moved."""
    if stage == Opportunity.Stage.LOST:  # each lost deal needs its own reason (lose_opportunity)
        raise ValidationError(_("Mark deals as lost one at a time: each needs a reason."), code="lost_needs_reason")
    values = {"stage": stage, "probability": Opportunity.STAGE_PROBABILITY[stage]}
    if stage in Opportunity.CLOSED_STAGES:
        values["closed_at"] = Coalesce(F("closed_at"), Value(timezone.now()), output_field=DateTimeField())
    else:
        values.update(closed_at=None, lost_reason="", lost_reason_choice="")
    return records.update_many(opportunities.exclude(stage=stage), acting_user=acting_user, **values)
