"""The reports app's one write: recording that a report left the CRM as a file."""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from audit.events import record
from audit.models import AuditEvent
from crm.tenancy.acting import action
from reports.catalogue import Report, may_read
from reports.filters import Filters


@action
def record_report_export(report: Report, filters: Filters, rows: int, *, acting_user) -> AuditEvent:
    """A CSV export of a report, recorded before any row leaves (the filters: dates, an owner id, a currency)."""
    if acting_user is not None and not may_read(acting_user, report):
        raise PermissionDenied(_("You may not read this report."))
    return record(
        AuditEvent.Action.EXPORT,
        object_type="report",
        object_id=report.slug,
        count=rows,
        detail={"what": "report", "report": report.slug, "filters": filters.used()},
    )
