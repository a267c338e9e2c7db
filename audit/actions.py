"""The audit app's operations: exporting the log, retention (the one sanctioned way to drop events),
and the nightly record of the chain heads.

Writing events themselves is audit.events.record(), called by every other action
in its own transaction.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django.utils.translation import gettext as _

from audit import heads as chain_heads
from audit.chain import prune
from audit.events import record
from audit.models import AuditEvent, ChainHead
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


@action
def record_chain_heads(*, acting_user) -> dict:
    """Write each chain's head down outside the event tables (audit.heads): {"recorded": rows, "broken": lines}.

    The system's job (the nightly Celery task). A chain that fails its recorded heads keeps
    them: its head is neither added to audit_chainhead nor moved in the heads file, so the
    failure is still there for verify_audit tomorrow. A heads file that cannot be read is
    left as it is.
    """
    if acting_user is not None:
        raise PermissionDenied(_("Chain heads are recorded by the system only."))
    current = chain_heads.chain_heads()
    recorded = chain_heads.recorded_heads()
    problems = chain_heads.head_problems(sorted(set(current) | set(recorded.heads)), recorded)
    broken = {key: f"{chain_heads.describe(key)}: {problem}" for key, problem in problems.items()}
    newest = dict(ChainHead.objects.order_by("chain", "-seq").distinct("chain").values_list("chain", "seq"))
    moved = {key: head for key, head in current.items() if key not in broken and newest.get(key) != head["seq"]}
    now = timezone.now()
    ChainHead.objects.bulk_create(
        [
            ChainHead(
                chain=key,
                seq=head["seq"],
                event_id=head["id"],
                hash=head["hash"],
                event_at=datetime.fromisoformat(head["created_at"]),
                recorded_at=now,
            )
            for key, head in moved.items()
        ],
        ignore_conflicts=True,  # a second run at the same moment records the same rows once
    )
    _update_heads_file({key: head for key, head in current.items() if key not in broken}, broken)
    return {"recorded": len(moved), "broken": list(broken.values())}


def _update_heads_file(good: dict, broken: dict) -> None:
    path = chain_heads.heads_dir() / chain_heads.HEADS_FILE
    try:
        previous = (chain_heads.read_heads_file(path) or {}) if path.exists() else {}
    except (OSError, ValueError, KeyError, TypeError):
        return  # verify_audit reports it; overwriting would hide what is left of it
    kept = {key: previous[key] for key in broken if key in previous}
    chain_heads.write_heads_file({**kept, **good})
