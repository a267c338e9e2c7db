"""Revert: put a version's values back, as a new, audited change (reason "reverted").

The one place that decides whether a version may be put back; the history
page and the API only show what it says.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from audit.models import AuditEvent
from crm.history.versions import changed_values, revertible_fields
from crm.records import actions as records
from crm.tenancy.acting import action
from crm.tenancy.context import amend
from crm.tenancy.models import Membership


def reference_problems(record, version, user) -> dict[str, list[str]]:
    """{field: [why]} for each reference the version would put back that may not be put back now.

    A person must still be a member of the company; a record must be one `user` can
    see (not in the recycle bin, not someone else's customer for a rep); None, the system, sees all.
    """
    problems: dict[str, list[str]] = {}
    values = changed_values(record, version)
    for field in revertible_fields(type(record)):
        target = values.get(field.attname)
        if not field.is_relation or target is None:
            continue
        related = field.related_model
        if related._meta.label == settings.AUTH_USER_MODEL:
            if not Membership.objects.filter(tenant_id=record.tenant_id, user_id=target).exists():
                problems[field.name] = [
                    _("%(field)s is no longer a member of the company.") % {"field": field.verbose_name}
                ]
        elif hasattr(related, "deleted") and not _visible(related, target, user):
            problems[field.name] = [_why_not_visible(related, target, user)]
    return problems


def _visible(model, pk, user) -> bool:
    rows = model.objects.all() if user is None else model.objects.for_user(user, "view")
    return rows.filter(pk=pk).exists()


def _why_not_visible(model, pk, user) -> str:
    in_bin = model.deleted.all() if user is None else model.deleted.for_user(user, "view")
    target = in_bin.filter(pk=pk).first()
    if target is not None:
        return _("Its %(type)s “%(record)s” is in the recycle bin; restore it first.") % {
            "type": model._meta.verbose_name,
            "record": target,
        }
    return _("That %(type)s is not visible to you.") % {"type": model._meta.verbose_name}


@action
def revert(record, version, *, acting_user):
    """Put the version's values back. Raises PermissionDenied (no right to change the record) or
    ValidationError, changing nothing, when the old values would break a rule today."""
    records.require(acting_user, "change", type(record), record)
    problems = reference_problems(record, version, acting_user)
    if problems:
        raise ValidationError(problems)
    values = {field.attname: getattr(version, field.attname) for field in revertible_fields(type(record))}
    with amend(reason="reverted"):
        return records.update(
            record,
            acting_user=acting_user,
            audit_action=AuditEvent.Action.REVERT,
            detail={"history_id": version.history_id},
            **values,
        )
