"""Tells a requester how their deletion request ended, as a message on their next page.

The outcome waits in the cache (crm.approvals.actions._tell_requester): one cache
read per signed-in page, no query; the approvals list keeps showing it afterwards.
"""

from django.contrib import messages
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from crm.approvals.actions import take_outcomes
from crm.approvals.models import ApprovalRequest

Status = ApprovalRequest.Status


def outcome_message(outcome: dict) -> tuple[int, str]:
    values = {"id": outcome["id"], "count": outcome["count"]}
    if outcome["status"] == Status.APPROVED:
        text = ngettext(
            "Your deletion request %(id)s (%(count)s record) was approved and done.",
            "Your deletion request %(id)s (%(count)s records) was approved and done.",
            outcome["count"],
        )
        return messages.SUCCESS, text % values
    if outcome["status"] == Status.REFUSED:
        return messages.WARNING, _("Your deletion request %(id)s was refused: nothing was deleted.") % values
    return messages.WARNING, _("Your deletion request %(id)s expired unanswered: nothing was deleted.") % values


class ApprovalOutcomes:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not request.path.startswith("/api/"):
            for outcome in take_outcomes(user):
                level, text = outcome_message(outcome)
                messages.add_message(request, level, text)
        return self.get_response(request)
