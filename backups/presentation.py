"""How the backup pages show backups and restores: labels, colours, durations, the rows of the tables."""

from __future__ import annotations

from django.shortcuts import render
from django.utils import formats, timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from backups.models import Backup, RestoreRun
from backups.restore import QUEUED
from crm.records.registry import record_models
from crm.tenancy.models import Membership

POLL_STATES = frozenset({Backup.Status.RUNNING, RestoreRun.Status.RUNNING})

# The phases the backup code records (stored in English), as shown to people.
PHASES = {
    QUEUED: gettext_lazy("waiting for a worker to start"),
    "starting": gettext_lazy("starting"),
    "dumping": gettext_lazy("dumping the database"),
    "verifying": gettext_lazy("verifying the backup file"),
    "safety backup": gettext_lazy("taking a safety backup of the whole database"),
    "restoring into a scratch database": gettext_lazy("restoring the backup into a scratch database"),
    "replacing the company's rows": gettext_lazy("replacing the company's data"),
    "checking for conflicts": gettext_lazy("checking for conflicts with the live data"),
    "copying the customer's rows": gettext_lazy("copying the customer's data"),
    "creating the database": gettext_lazy("creating the new database"),
    "restoring into the new database": gettext_lazy("restoring into the new database"),
}
STATUS_COLOURS = {
    Backup.Status.GOOD: "success",
    Backup.Status.FAILED: "danger",
    Backup.Status.PRUNED: "secondary",
    Backup.Status.BAD: "danger",
    Backup.Status.RUNNING: "info",
    RestoreRun.Status.DONE: "success",
    RestoreRun.Status.REFUSED: "warning",
}


def when(moment) -> str:
    return formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT") if moment else ""


def human_duration(seconds) -> str:
    if seconds is None:
        return ""
    if seconds < 60:
        return _("%(seconds)s s") % {"seconds": formats.number_format(seconds, 1)}
    minutes, seconds = divmod(round(seconds), 60)
    if minutes < 60:
        return _("%(minutes)d min %(seconds)d s") % {"minutes": minutes, "seconds": seconds}
    hours, minutes = divmod(minutes, 60)
    return _("%(hours)d h %(minutes)d min") % {"hours": hours, "minutes": minutes}


def phase_label(phase: str) -> str:
    return str(PHASES.get(phase, phase))


def target_label(run: RestoreRun) -> str:
    if run.scope == RestoreRun.Scope.CUSTOMER:
        return _("Customer #%(id)s") % {"id": run.target}
    if run.scope == RestoreRun.Scope.DATABASE:
        return _("Database %(name)s") % {"name": run.target}
    return run.tenant.name if run.tenant else run.target


def restore_row(run: RestoreRun) -> dict:
    report = run.report or {}
    rows = report.get("rows") or {}
    return {
        "run": run,
        "target": target_label(run),
        "phase": phase_label(run.phase),
        "colour": STATUS_COLOURS.get(run.status, "info"),
        "conflicts": report.get("conflicts") or [],
        "rows_restored": sum(count for count in rows.values() if isinstance(count, int)),
        "rows": sorted(rows.items()),
        "set_aside_batch": (report.get("set_aside") or {}).get("batch"),
        "set_aside": sum(((report.get("set_aside") or {}).get("counts") or {}).values()),
        "backup_when": when(run.backup.started_at),
        "polling": run.status in POLL_STATES,
    }


def backup_row(backup: Backup) -> dict:
    drills = getattr(backup, "latest_drills", None)
    return {
        "backup": backup,
        "when": when(backup.started_at),
        "duration": human_duration(backup.duration),
        "phase": phase_label(backup.phase),
        "colour": STATUS_COLOURS.get(backup.status, "info"),
        "drill": drills[0] if drills else None,
        "restorable": backup.status == Backup.Status.GOOD,
        "polling": backup.status in POLL_STATES,
    }


def company_counts(backup: Backup, tenant) -> list[dict]:
    """Rows of the company now and in the backup, for the main kinds of data."""
    in_backup = backup.manifest.get("row_counts", {})
    counted = [(model, model.all_objects.filter(tenant=tenant)) for model in record_models().values()]
    counted.append((Membership, Membership.objects.filter(tenant=tenant)))
    return [
        {
            "label": model._meta.verbose_name_plural,
            "in_backup": in_backup.get(model._meta.db_table, {}).get(str(tenant.pk), 0),
            "now": queryset.count(),
        }
        for model, queryset in counted
    ]


def render_progress(request, full_template: str, partial_template: str, context: dict):
    """The whole page, or only the polled fragment for htmx."""
    template = partial_template if getattr(request, "htmx", False) else full_template
    response = render(request, template, context)
    response["Cache-Control"] = "no-store"
    patch_vary_headers(response, ("HX-Request",))
    return response
