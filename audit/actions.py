"""The audit app's operations: exporting the log, and retention (the one sanctioned way to drop events).

Writing events themselves is audit.events.record(), called by every other action
in its own transaction.
"""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.chain import prune
from audit.events import record
from audit.models import AuditEvent
from crm.tenancy.acting import action, require_role
from crm.tenancy.context import activate
from crm.tenancy.models import Tenant
from crm.tenancy.roles import AUDIT_READER_ROLES

# The key of the system chain in prune_expired() (no tenant slug can look like it).
SYSTEM_CHAIN = "(system)"


@action
def record_export(filters: dict, *, acting_user) -> AuditEvent:
    """An export of the active company's log: admins and managers only, recorded before any row leaves."""
    require_role(acting_user, AUDIT_READER_ROLES, _("Only administrators and managers may read the audit log."))
    return record(AuditEvent.Action.EXPORT, detail={"what": "audit_log", "filters": filters})


@action
def prune_expired(*, process: str, now=None, acting_user) -> dict[str, int]:
    """{tenant slug, or "(system)": events dropped} for events older than AUDIT_RETENTION_DAYS.

    The system's job (a Celery task, a command): each chain gets a checkpoint first.
    """
    if acting_user is not None:
        raise PermissionDenied(_("Audit retention is run by the system only."))
    before = (now or timezone.now()) - timedelta(days=settings.AUDIT_RETENTION_DAYS)
    dropped = {}
    for tenant in Tenant.objects.order_by("pk"):
        with activate(tenant, process=process, reason="audit retention"):
            dropped[tenant.slug] = prune(tenant, before)
    with activate(None, process=process, reason="audit retention"):
        dropped[SYSTEM_CHAIN] = prune(None, before)
    return dropped
