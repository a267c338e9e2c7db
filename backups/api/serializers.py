"""The shapes of the backups API: what it answers, and the restore request it reads.

Read-only serializers describe the answers (for the schema; the data is built by
`backup_data`, `restore_data` and `task_data`); the restore request is parsed by
`restore_body`, which names the field at fault (400).
"""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import PolymorphicProxySerializer
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from backups.models import Backup, RestoreDrill, RestoreRun
from backups.tasks import backup_task_outcome
from crm.api.filters import MAX_PK
from crm.recyclebin.api import UserRefSerializer

RESTORE_SCOPES = (RestoreRun.Scope.TENANT.value, RestoreRun.Scope.CUSTOMER.value)


class DrillSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    started_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    passed = serializers.BooleanField(allow_null=True, help_text="null while the drill runs.")
    restore_seconds = serializers.FloatField(allow_null=True, help_text="How long the restore took.")
    mismatches = serializers.IntegerField(help_text="Tables × companies whose row count differs from the manifest.")
    error = serializers.CharField(allow_null=True, help_text="Why the drill failed (staff only; null otherwise).")


class BackupSerializer(serializers.Serializer):
    """One backup of the whole database; "good" only after every check passed."""

    id = serializers.IntegerField()
    url = serializers.CharField(help_text="This backup in the API.")
    kind = serializers.ChoiceField(choices=Backup.Kind.choices)
    status = serializers.ChoiceField(
        choices=Backup.Status.choices,
        help_text="running, then good or failed; bad once its file failed verification (missing, unreadable or "
        "changed: never restored from); pruned once retention removed it.",
    )
    checked_at = serializers.DateTimeField(
        allow_null=True, help_text="When its file was last found intact (or found bad) by the check or a drill."
    )
    copy_location = serializers.CharField(
        allow_null=True, help_text="Staff only: where the second copy is (BACKUP_COPY_TO); null without one."
    )
    phase = serializers.CharField(
        help_text='While running: "starting", "dumping", "verifying"; empty once finished.', allow_blank=True
    )
    started_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    duration = serializers.FloatField(allow_null=True, help_text="Seconds, once finished.")
    size = serializers.IntegerField(allow_null=True, help_text="Bytes of the dump file, once good.")
    sha256 = serializers.CharField(allow_blank=True, help_text="Of the dump file, once good.")
    error = serializers.CharField(
        allow_null=True,
        help_text="Why the backup failed: staff only (null for everyone else, and when it did not fail).",
    )
    created_by = UserRefSerializer(
        allow_null=True, help_text="Who started it: staff only (null otherwise, and for scheduled backups)."
    )
    os_user = serializers.CharField(
        allow_null=True,
        help_text="Staff only: the operating-system account that ran it from the command line "
        "(`manage.py backup_now`); null otherwise.",
    )
    last_drill = DrillSerializer(allow_null=True, help_text="The newest restore drill of this backup (null: none yet).")
    restore_options = serializers.ListField(
        child=serializers.ChoiceField(choices=RESTORE_SCOPES),
        help_text="The scopes you may POST to restore_url: tenant and customer for your company's admins "
        "while the backup is good; empty otherwise.",
    )
    restore_url = serializers.CharField(allow_null=True, help_text="Where to POST a restore (null: no option).")
    customers_url = serializers.CharField(
        allow_null=True,
        help_text="Where to find your company's customers in this backup by name (?q=; null: no option).",
    )


class RestoreRunSerializer(serializers.Serializer):
    """A restore of the company, of one customer, or (staff, from the browser) of the whole database."""

    id = serializers.IntegerField()
    url = serializers.CharField(help_text="This restore in the API (poll it until status is no longer running).")
    backup = serializers.IntegerField(
        allow_null=True,
        help_text="The backup restored from (a restore to a moment: the recovered one, null until recovered).",
    )
    moment = serializers.DateTimeField(allow_null=True, help_text="A restore to a moment: the moment.")
    scope = serializers.ChoiceField(choices=RestoreRun.Scope.choices)
    target = serializers.CharField(help_text="The company's slug, the customer's id or the new database's name.")
    customer = serializers.IntegerField(allow_null=True, help_text="scope customer: the customer's id.")
    customer_name = serializers.CharField(
        allow_null=True,
        help_text="scope customer: the customer's name, from the live data once restored, else from the backup "
        "(null when not known yet, or for a person erased since).",
    )
    status = serializers.ChoiceField(
        choices=RestoreRun.Status.choices,
        help_text="running, then done, failed, or refused (conflicts with the live data: nothing was written).",
    )
    phase = serializers.CharField(
        allow_blank=True, help_text='While running: "queued" (waiting for a worker), then each step; empty once ended.'
    )
    started_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    safety_backup = serializers.IntegerField(
        allow_null=True, help_text="scope tenant: the backup of the whole database taken just before."
    )
    rows = serializers.DictField(child=serializers.IntegerField(), help_text="Rows restored, per table.")
    rows_restored = serializers.IntegerField()
    conflicts = serializers.ListField(
        child=serializers.CharField(), help_text="status refused: what in the live data stands in the way."
    )
    error = serializers.CharField(allow_null=True, help_text="status failed: why.")
    created_by = UserRefSerializer(allow_null=True, help_text="Who asked for it.")


class BackupCustomerSerializer(serializers.Serializer):
    """A customer of your company as a backup holds it."""

    id = serializers.IntegerField(help_text="Its id in the backup: the `customer` of a customer restore.")
    name = serializers.CharField()
    deleted = serializers.BooleanField(help_text="It was in the recycle bin when the backup was taken.")
    live = serializers.ChoiceField(
        choices=["live", "bin", "absent"],
        help_text="Where it is now: live and bin (the restore would be refused with conflicts), absent.",
    )


class BackupCustomersSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="How many customers match (at most 25 are listed).")
    results = BackupCustomerSerializer(many=True)


class BackupTaskSerializer(serializers.Serializer):
    """A requested backup, until its Backup row exists."""

    task = serializers.UUIDField(help_text="The Celery task taking the backup.")
    url = serializers.CharField(help_text="This task's status in the API.")
    state = serializers.ChoiceField(
        choices=[
            ("queued", "queued: waiting for a worker (an unknown task id reads the same)"),
            ("created", "created: the backup row exists; follow backup_url"),
            ("busy", "busy: another backup was running, nothing was done"),
            ("failed", "failed: the task itself failed"),
        ],
        help_text="queued (waiting for a worker; an unknown task id reads the same), created (the backup "
        "exists: follow backup_url), busy (another backup was running: nothing was done), failed (the task "
        "itself failed; see error).",
    )
    backup = serializers.IntegerField(allow_null=True, help_text="state created: the backup's id.")
    backup_url = serializers.CharField(allow_null=True, help_text="state created: the backup in the API.")
    error = serializers.CharField(allow_null=True, help_text="state failed: why.")


class StrictIdField(serializers.IntegerField):
    """An id: a whole number (1.5, "1e3" and true are refused, not rounded)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_PK)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("invalid")
        if isinstance(data, str) and not (data.isascii() and data.isdigit()):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictSerializer(serializers.Serializer):
    """Refuses fields it does not know: a typo must not be silently ignored."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(str(key) for key in data if key not in self.fields)
            if unknown:
                raise ValidationError(
                    {
                        name[:100]: [_("Unknown field. Allowed: %(fields)s.") % {"fields": ", ".join(self.fields)}]
                        for name in unknown[:10]
                    }
                )
        return super().to_internal_value(data)


class TenantRestoreSerializer(StrictSerializer):
    """Restore the whole company."""

    scope = serializers.ChoiceField(
        choices=[RestoreRun.Scope.TENANT.value],
        help_text="Replace all of your company's data with the backup's, after a safety backup.",
    )


class CustomerRestoreSerializer(StrictSerializer):
    """Restore one customer of the company."""

    scope = serializers.ChoiceField(
        choices=[RestoreRun.Scope.CUSTOMER.value],
        help_text="Bring back one customer with its contacts, interactions, tickets and opportunities; "
        "nothing is overwritten: conflicts with live data are reported and nothing is written.",
    )
    customer = StrictIdField(
        help_text="The customer's id as it was in the backup (find it by name: GET the backup's customers_url). "
        "An id the backup does not hold for your company, or of a person erased at their request, is a 400."
    )


RESTORE_BODIES = {
    RestoreRun.Scope.TENANT.value: TenantRestoreSerializer,
    RestoreRun.Scope.CUSTOMER.value: CustomerRestoreSerializer,
}
RESTORE_REQUEST = PolymorphicProxySerializer(
    component_name="BackupRestore",
    serializers=RESTORE_BODIES,
    resource_type_field_name="scope",
)


def restore_body(data) -> dict:
    """The restore request, by its scope: 400 with the fields named."""
    if not isinstance(data, dict):
        raise ValidationError({"non_field_errors": [_("Send a JSON object.")]})
    scope = data.get("scope")
    body_class = RESTORE_BODIES.get(scope) if isinstance(scope, str) else None
    if body_class is None:
        raise ValidationError({"scope": [_("Choose one of: %(scopes)s.") % {"scopes": ", ".join(RESTORE_SCOPES)}]})
    body = body_class(data=data)
    body.is_valid(raise_exception=True)
    return body.validated_data


def user_ref(user) -> dict | None:
    return {"id": user.pk, "username": user.get_username()} if user is not None else None


def backup_data(backup: Backup, *, staff: bool, admin: bool) -> dict:
    drills = getattr(backup, "latest_drills", None)
    drill: RestoreDrill | None = drills[0] if drills else None
    options = list(RESTORE_SCOPES) if admin and backup.status == Backup.Status.GOOD else []
    return {
        "id": backup.pk,
        "url": reverse("api:backup-detail", args=[backup.pk]),
        "kind": backup.kind,
        "status": backup.status,
        "phase": backup.phase,
        "started_at": backup.started_at,
        "finished_at": backup.finished_at,
        "duration": backup.duration,
        "size": backup.size,
        "sha256": backup.sha256,
        "checked_at": backup.checked_at,
        "copy_location": (backup.copy_location or None) if staff else None,
        "error": (backup.error or None) if staff else None,
        "created_by": user_ref(backup.created_by) if staff else None,
        "os_user": (backup.os_user or None) if staff else None,
        "last_drill": {
            "id": drill.pk,
            "started_at": drill.started_at,
            "finished_at": drill.finished_at,
            "passed": drill.passed,
            "restore_seconds": drill.restore_seconds,
            "mismatches": len(drill.mismatches or []),
            "error": (drill.error or None) if staff else None,
        }
        if drill is not None
        else None,
        "restore_options": options,
        "restore_url": reverse("api:backup-restore", args=[backup.pk]) if options else None,
        "customers_url": reverse("api:backup-customers", args=[backup.pk]) if options else None,
    }


def restore_data(run: RestoreRun, customer_name: str = "") -> dict:
    report = run.report if isinstance(run.report, dict) else {}
    rows = {str(table): count for table, count in (report.get("rows") or {}).items() if isinstance(count, int)}
    is_customer = run.scope == RestoreRun.Scope.CUSTOMER
    return {
        "id": run.pk,
        "url": reverse("api:backup-restore-run-detail", args=[run.pk]),
        "backup": run.backup_id,
        "moment": run.moment,
        "scope": run.scope,
        "target": run.target,
        "customer": int(run.target) if is_customer and run.target.isascii() and run.target.isdigit() else None,
        "customer_name": customer_name or None,
        "status": run.status,
        "phase": run.phase,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "safety_backup": run.safety_backup_id,
        "rows": rows,
        "rows_restored": sum(rows.values()),
        "conflicts": [str(conflict) for conflict in report.get("conflicts") or []],
        "error": run.error or None,
        "created_by": user_ref(run.created_by),
    }


def customers_data(found: dict) -> dict:
    """The customers a search found (backups.presentation.customer_matches)."""
    return {
        "count": found["total"],
        "results": [
            {"id": m["customer"].id, "name": m["customer"].name, "deleted": m["customer"].deleted, "live": m["live"]}
            for m in found["matches"]
        ],
    }


def task_data(task_id: str) -> dict:
    """What became of a `backup_now` task (tasks.backup_task_outcome, as the browser's pending page reads it)."""
    outcome = backup_task_outcome(task_id)
    return {
        "task": task_id,
        "url": reverse("api:backup-task", args=[task_id]),
        "state": outcome.state,
        "backup": outcome.backup_id,
        "backup_url": reverse("api:backup-detail", args=[outcome.backup_id]) if outcome.backup_id else None,
        "error": outcome.error or None,
    }
