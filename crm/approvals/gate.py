"""The check every deleting recycle-bin action makes: may it go on, or must it wait for approval?

crm.recyclebin.actions (delete, purge, empty_bin) call `gate()` once the acting
person's rights are checked. When the company's policy asks for a second person,
it records a request (crm.approvals.actions.request_approval) and raises
ApprovalRequested: nothing is deleted, and the caller answers "waiting" (a
message and the approvals list in the browser, 202 in the API).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from crm.approvals.actions import Status, policy, request_approval
from crm.approvals.models import ApprovalRequest


class ApprovalRequested(Exception):
    """Nothing was deleted: the request waits for a second person's approval (`self.approval`)."""

    def __init__(self, approval: ApprovalRequest):
        super().__init__(f"approval {approval.pk} pending")
        self.approval = approval


def gate(kind: str, *, acting_user, selection, record_type: str = "", reason: str = "", approval=None) -> None:
    """Return when the action may go on; raise ApprovalRequested when it must wait for a second person.

    It may go on for the system (retention, commands), below the policy's threshold, and
    when it runs an approved request (`approval`, set by approve() only). `selection()`
    -> (count, ["type:id", ...]) is asked only when the company's policy is on.
    """
    if approval is not None:
        if approval.status != Status.APPROVED or approval.decided_by_id is None:
            raise PermissionDenied(_("This deletion has not been approved."))
        return
    if acting_user is None:
        return
    current = policy()
    if not current.enabled:
        return
    count, items = selection()
    if not current.needs_approval(kind, count):
        return
    request = request_approval(
        kind, acting_user=acting_user, count=count, items=items, record_type=record_type, reason=reason
    )
    raise ApprovalRequested(request)
