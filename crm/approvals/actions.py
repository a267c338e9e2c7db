"""Deletion approval (four eyes): the policy, asking, approving, refusing and expiring.

The recycle-bin actions ask crm.approvals.gate whether a delete or purge may go on;
when the company's policy wants a second person, it records a request here
(request_approval) and nothing is deleted. Approving runs the same recycle-bin action
as the requester (their rights are checked again) with the approval attached, so
its audit event names both people; refusing or expiring changes nothing. The
requester learns the outcome on their next page (crm.approvals.middleware).
"""

from __future__ import annotations

from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.events import record as audit
from audit.models import AuditEvent
from crm.approvals.models import ApprovalPolicy, ApprovalRequest
from crm.records.actions import IDS_IN_EVENT
from crm.tenancy.acting import ActionConflict, action, member_role, require_role
from crm.tenancy.context import current_tenant
from crm.tenancy.roles import Role

Kind, Status = ApprovalRequest.Kind, ApprovalRequest.Status
REASON_MAX = 1000
OUTCOMES_KEY = "approvals:outcomes:{user_id}"  # the requester's untold outcomes (shown on their next page)


def policy() -> ApprovalPolicy:
    """The active company's policy (unsaved defaults, approval off, when it never set one)."""
    return ApprovalPolicy.objects.first() or ApprovalPolicy(tenant=current_tenant())


def clean_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if "\x00" in reason:
        raise ValidationError({"reason": _("The reason contains a character that is not allowed.")})
    if len(reason) > REASON_MAX:
        raise ValidationError({"reason": _("Give the reason in at most %(max)s characters.") % {"max": REASON_MAX}})
    return reason


@action
def request_approval(kind, *, acting_user, count, items, record_type="", reason="") -> ApprovalRequest:
    """Record what the acting person asked to delete, waiting for a second person."""
    reason = clean_reason(reason)
    with transaction.atomic():
        approval = ApprovalRequest.objects.create(
            kind=kind,
            record_type=record_type,
            items=items,
            count=count,
            reason=reason,
            requested_by=acting_user,
            expires_at=ApprovalRequest.expiry(policy()),
        )
        audit(
            AuditEvent.Action.APPROVAL_REQUESTED,
            target=approval,
            count=count,
            detail={"kind": kind, "record_type": record_type, "items": items[:IDS_IN_EVENT]},
        )
    return approval


@action
def update_policy(*, acting_user, enabled: bool, bulk_threshold: int, expiry_hours: int) -> ApprovalPolicy:
    """Admins switch deletion approval on or off and set its threshold and answering time."""
    require_role(acting_user, {Role.ADMIN}, _("Only administrators may change the deletion approval setting."))
    current = policy()
    values = {"enabled": enabled, "bulk_threshold": bulk_threshold, "expiry_hours": expiry_hours}
    changed = sorted(name for name, value in values.items() if getattr(current, name) != value)
    for name, value in values.items():
        setattr(current, name, value)
    current.full_clean(exclude=["tenant"])
    if changed or current.pk is None:
        with transaction.atomic():
            current.save()
            audit(AuditEvent.Action.SETTINGS, target=current, detail={"fields": changed, "setting": "approval"})
    return current


# -- answering ------------------------------------------------------------------------------------------


def may_decide(approval: ApprovalRequest, user, role) -> bool:
    """Admins answer every request, managers bulk deletes; never the requester."""
    if user is None or user.pk == approval.requested_by_id:
        return False
    return role == Role.ADMIN or (role == Role.MANAGER and approval.kind == Kind.BULK_DELETE)


def _check_may_decide(approval, acting_user, attempted: str) -> None:
    if acting_user is not None and acting_user.pk == approval.requested_by_id:
        audit(AuditEvent.Action.REFUSED, target=approval, detail={"attempted": attempted, "reason": "own_request"})
        raise PermissionDenied(_("You cannot answer your own request: a second person must."))
    if not may_decide(approval, acting_user, member_role(acting_user)):
        audit(AuditEvent.Action.REFUSED, target=approval, detail={"attempted": attempted})
        raise PermissionDenied(_("Only admins, and managers for bulk deletes, may answer deletion requests."))


def _open(approval) -> ApprovalRequest:
    """The request, locked, if it still waits for an answer (409 otherwise)."""
    locked = ApprovalRequest.objects.select_for_update().get(pk=approval.pk)
    if not locked.is_open:
        raise ActionConflict(_("This request was already answered, or it has expired."), code="approval_closed")
    return locked


@action
def approve(approval: ApprovalRequest, *, acting_user) -> ApprovalRequest:
    """Run the requested delete or purge as the requester, with both people in its audit event."""
    _check_may_decide(approval, acting_user, "approve")
    with transaction.atomic():
        locked = _open(approval)
        locked.status, locked.decided_by, locked.decided_at = Status.APPROVED, acting_user, timezone.now()
        audit(
            AuditEvent.Action.APPROVAL_GRANTED,
            target=locked,
            count=locked.count,
            detail={"kind": locked.kind, "requested_by": locked.requested_by_id},
        )
        counts, batch = _run(locked)
        locked.result, locked.batch = counts, batch
        locked.save()
        _tell_requester(locked)
    return locked


def _run(approval):
    """(counts, batch) of the recycle-bin action the request names, run as the requester."""
    # Imported here: the recycle-bin actions import this module for gate().
    from crm.records.registry import record_models
    from crm.recyclebin import actions as recyclebin

    requester = approval.requested_by
    if requester is None:
        raise ActionConflict(_("The person who asked is no longer a user: refuse the request."), code="approval_stale")
    types = record_models()
    if approval.kind == Kind.BULK_DELETE:
        ids = [int(item.partition(":")[2]) for item in approval.items]
        model = types[approval.record_type]
        batch = recyclebin.delete(model.objects.filter(pk__in=ids), acting_user=requester, approval=approval)
        return dict(batch.counts), batch.id if batch.total else None
    if approval.kind == Kind.PURGE:
        items = [recyclebin.Item(types[name], int(pk)) for name, _sep, pk in (i.partition(":") for i in approval.items)]
        return recyclebin.purge(items, acting_user=requester, approval=approval), None
    return recyclebin.empty_bin(acting_user=requester, approval=approval), None


@action
def refuse(approval: ApprovalRequest, *, acting_user) -> ApprovalRequest:
    """Say no: nothing is deleted, and the requester is told."""
    _check_may_decide(approval, acting_user, "refuse")
    with transaction.atomic():
        locked = _open(approval)
        locked.status, locked.decided_by, locked.decided_at = Status.REFUSED, acting_user, timezone.now()
        locked.save()
        audit(
            AuditEvent.Action.APPROVAL_REFUSED,
            target=locked,
            count=locked.count,
            detail={"kind": locked.kind, "requested_by": locked.requested_by_id, "reason": "refused"},
        )
        _tell_requester(locked)
    return locked


@action
def expire_overdue(*, acting_user, now=None) -> int:
    """The system: requests of the active company nobody answered in time expire (nothing is deleted)."""
    with transaction.atomic():
        overdue = list(
            ApprovalRequest.objects.select_for_update()
            .filter(status=Status.PENDING, expires_at__lte=now or timezone.now())
            .order_by("pk")
        )
        for approval in overdue:  # one by one: simple-history records each (a handful at a time)
            approval.status, approval.decided_at = Status.EXPIRED, timezone.now()
            approval.save(update_fields=["status", "decided_at"])
            _tell_requester(approval)
        if overdue:
            ids = [approval.pk for approval in overdue]
            audit(
                AuditEvent.Action.APPROVAL_REFUSED,
                object_type="approvalrequest",
                object_id=ids[0] if len(ids) == 1 else "",
                count=len(ids),
                detail={"ids": ids[:IDS_IN_EVENT], "reason": "expired"},
            )
    return len(overdue)


# -- telling the requester ------------------------------------------------------------------------------


def _tell_requester(approval) -> None:
    """Once committed: the outcome waits in the cache for the requester's next page."""
    if approval.requested_by_id is None:
        return
    outcome = {"id": approval.pk, "status": approval.status, "kind": approval.kind, "count": approval.count}
    key = OUTCOMES_KEY.format(user_id=approval.requested_by_id)

    def remember():
        cache.set(key, [*(cache.get(key) or []), outcome][-20:], timeout=7 * 24 * 3600)

    transaction.on_commit(remember)


def take_outcomes(user) -> list[dict]:
    """The outcomes not yet shown to `user` (and forget them)."""
    key = OUTCOMES_KEY.format(user_id=user.pk)
    outcomes = cache.get(key)
    if outcomes:
        cache.delete(key)
    return outcomes or []
