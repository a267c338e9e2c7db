"""Exports: each one is recorded (an EXPORT audit event) before any row leaves.

A list export takes the rows exactly as the list shows them, through the same
restricting queryset and filters (a rep exports their own and shared customers);
the company export is an administrator's, of every record type, the recycle bin
included. The event holds the type, the count and the names of the filters used,
never their values (a search for a person's name is personal data).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.utils.translation import gettext as _

from audit.events import record
from audit.models import AuditEvent
from crm.records.registry import record_types
from crm.tenancy.acting import action, member_role, require_role
from crm.tenancy.context import current_tenant
from crm.tenancy.roles import TENANT_ADMIN_ROLES, role_may


def _require_view(acting_user, name: str, label) -> None:
    if acting_user is not None and not role_may(member_role(acting_user) or "", "view", name):
        raise PermissionDenied(_("Your role may not see %(types)s.") % {"types": label})


@action
def record_list_export(queryset, *, fmt: str, filters, acting_user) -> int:
    """Record the export of a list's rows (`queryset`, already restricted and filtered); returns the count."""
    model = queryset.model
    name = model._meta.model_name
    _require_view(acting_user, name, model._meta.verbose_name_plural)
    count = queryset.order_by().count()
    record(
        AuditEvent.Action.EXPORT,
        object_type=name,
        count=count,
        detail={"what": "list", "type": name, "format": fmt, "filters": sorted(filters)},
    )
    return count


@action
def record_bin_export(parts, *, fmt: str, filters, acting_user) -> int:
    """Record the export of the recycle bin as its page lists it (`parts`: one queryset per type)."""
    if acting_user is not None and not member_role(acting_user):
        raise PermissionDenied(_("You are not a member of this company."))
    count = sum(part.order_by().count() for part in parts)
    record(
        AuditEvent.Action.EXPORT,
        object_type="recycle_bin",
        count=count,
        detail={"what": "recycle_bin", "format": fmt, "filters": sorted(filters)},
    )
    return count


def company_counts() -> dict[str, dict[str, int]]:
    """{type: {"alive": n, "in_bin": n}} of the active company: one query per record type."""
    tenant = current_tenant()
    return {
        name: entry.model.all_objects.filter(tenant=tenant).aggregate(
            alive=Count("pk", filter=Q(deleted_at__isnull=True)), in_bin=Count("pk", filter=Q(deleted_at__isnull=False))
        )
        for name, entry in record_types().items()
    }


@action
def record_company_export(*, acting_user) -> dict[str, dict[str, int]]:
    """Record an administrator's export of the whole company; returns the counts it announces."""
    require_role(acting_user, TENANT_ADMIN_ROLES, _("Only administrators may export the whole company."))
    counts = company_counts()
    record(
        AuditEvent.Action.EXPORT,
        object_type="tenant",
        object_id=current_tenant().pk,
        count=sum(n for row in counts.values() for n in row.values()),
        detail={"what": "company", "counts": counts},
    )
    return counts
