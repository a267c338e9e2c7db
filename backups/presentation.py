"""How the backup pages show backups and restores: labels, colours, durations, the rows of the tables."""

from __future__ import annotations

from django.shortcuts import render
from django.utils import formats, timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from backups import listing, pitr
from backups.models import Backup, RestoreRun
from backups.restore import QUEUED
from crm.records.registry import record_models

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
    pitr.RESTORING_BASE: gettext_lazy("restoring the base backup into a scratch server"),
    pitr.REPLAYING: gettext_lazy("replaying the changes up to the moment (WAL)"),
    pitr.COPYING: gettext_lazy("copying the database as it was at the moment"),
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
    """Seconds as a person reads them: "0.1 s" at least (never "0.0 s"), whole seconds from 10 s, then minutes, hours."""
    if seconds is None:
        return ""
    if seconds < 9.95:
        return _("%(seconds)s s") % {"seconds": formats.number_format(max(round(seconds, 1), 0.1), 1)}
    if seconds < 59.5:
        return _("%(seconds)s s") % {"seconds": formats.number_format(round(seconds), 0)}
    minutes, seconds = divmod(round(seconds), 60)
    if minutes < 60:
        return _("%(minutes)d min %(seconds)d s") % {"minutes": minutes, "seconds": seconds}
    hours, minutes = divmod(minutes, 60)
    return _("%(hours)d h %(minutes)d min") % {"hours": hours, "minutes": minutes}


def started_by(backup: Backup) -> str:
    """Who or what started a backup: the person, the command line (with its OS account), the schedule, a restore."""
    if backup.os_user:
        where = _("command line (OS user %(name)s)") % {"name": backup.os_user}
        return f"{backup.created_by.get_username()} · {where}" if backup.created_by else where
    if backup.created_by:
        return backup.created_by.get_username()
    if backup.kind == Backup.Kind.SCHEDULED:
        return _("schedule")
    if backup.kind == Backup.Kind.PRE_RESTORE:
        return _("a restore")
    return ""  # a person since deleted, or the command line before it was recorded


# The phases of each kind of work, in order, to say how far it has got.
STEPS = {
    "backup": ("starting", "dumping", "verifying"),
    RestoreRun.Scope.TENANT: (
        QUEUED,
        "starting",
        "safety backup",
        "restoring into a scratch database",
        "replacing the company's rows",
    ),
    RestoreRun.Scope.CUSTOMER: (
        QUEUED,
        "starting",
        "restoring into a scratch database",
        "checking for conflicts",
        "copying the customer's rows",
    ),
    RestoreRun.Scope.DATABASE: (QUEUED, "starting", "creating the database", "restoring into the new database"),
}
# A restore to a moment first recovers the database as it was (backups/pitr.py), then restores as above.
RECOVERY_STEPS = (QUEUED, pitr.RESTORING_BASE, pitr.REPLAYING, pitr.COPYING)
for _scope in RestoreRun.Scope.values:
    STEPS[f"{_scope}@moment"] = RECOVERY_STEPS + tuple(
        step for step in STEPS[_scope] if step not in (QUEUED, "starting")
    )


def phase_label(phase: str, work: str = "") -> str:
    """The phase in words, with how far the work has got ("step 2 of 4: ...") when its steps are known."""
    words = str(PHASES.get(phase, phase))
    steps = STEPS.get(work, ())
    if phase in steps:
        return _("step %(step)d of %(steps)d: %(phase)s") % {
            "step": steps.index(phase) + 1,
            "steps": len(steps),
            "phase": words,
        }
    return words


def target_label(run: RestoreRun, name: str = "") -> str:
    if run.scope == RestoreRun.Scope.CUSTOMER:
        if name:
            return _("%(name)s (customer #%(id)s)") % {"name": name, "id": run.target}
        return _("Customer #%(id)s") % {"id": run.target}
    if run.scope == RestoreRun.Scope.DATABASE:
        return _("Database %(name)s") % {"name": run.target}
    return run.tenant.name if run.tenant else run.target


def rows_of_restores(runs) -> list[dict]:
    """The rows of these restores (their backups and companies selected with them), customers named."""
    runs = list(runs)
    names = customer_names(runs)
    return [restore_row(run, names.get(run.pk, "")) for run in runs]


def restore_row(run: RestoreRun, name: str = "") -> dict:
    report = run.report or {}
    rows = report.get("rows") or {}
    return {
        "run": run,
        "target": target_label(run, name),
        "customer_name": name,
        "phase": phase_label(run.phase, f"{run.scope}@moment" if run.moment else run.scope),
        "colour": STATUS_COLOURS.get(run.status, "info"),
        "conflicts": report.get("conflicts") or [],
        "rows_restored": sum(count for count in rows.values() if isinstance(count, int)),
        "rows": sorted(rows.items()),
        "set_aside_batch": (report.get("set_aside") or {}).get("batch"),
        "set_aside": sum(((report.get("set_aside") or {}).get("counts") or {}).values()),
        "backup_when": when(run.backup.started_at) if run.backup else "",
        "moment": when(run.moment),
        "polling": run.status in POLL_STATES,
    }


def backup_row(backup: Backup) -> dict:
    drills = getattr(backup, "latest_drills", None)
    return {
        "backup": backup,
        "when": when(backup.started_at),
        "duration": human_duration(backup.duration),
        "started_by": started_by(backup),
        "drill_duration": human_duration(drills[0].restore_seconds) if drills else "",
        "phase": phase_label(backup.phase, "backup"),
        "colour": STATUS_COLOURS.get(backup.status, "info"),
        "drill": drills[0] if drills else None,
        "restorable": backup.status == Backup.Status.GOOD,
        "polling": backup.status in POLL_STATES,
    }


def company_counts(backup: Backup, tenant) -> list[dict]:
    """Records of the company now and in the backup, per record type (access is not restored: not counted)."""
    in_backup = backup.manifest.get("row_counts", {})
    counted = [(model, model.all_objects.filter(tenant=tenant)) for model in record_models().values()]
    return [
        {
            "label": model._meta.verbose_name_plural,
            "in_backup": in_backup.get(model._meta.db_table, {}).get(str(tenant.pk), 0),
            "now": queryset.count(),
        }
        for model, queryset in counted
    ]


# -- customers, by name ----------------------------------------------------------------

LIVE_STATES = {
    "live": gettext_lazy("exists in the live data"),
    "bin": gettext_lazy("in the recycle bin now"),
    "absent": gettext_lazy("not in the live data"),
}


def live_states(tenant, ids) -> dict[int, str]:
    """{id: "live", "bin" or "absent"}: where these customers are in the company's live data (one query)."""
    found = dict(
        record_models()["customer"].all_objects.filter(tenant=tenant, pk__in=ids).values_list("pk", "deleted_at")
    )
    return {pk: "absent" if pk not in found else "bin" if found[pk] else "live" for pk in ids}


def customer_matches(backup: Backup, tenant, query: str) -> dict:
    """The search results of "Restore a customer": each match with where it is now."""
    matches, total = listing.search(backup, tenant, query)
    states = live_states(tenant, [customer.id for customer in matches])
    return {
        "searched": True,
        "query": query,
        "total": total,
        "more": total - len(matches),
        "matches": [
            {"customer": customer, "live": states[customer.id], "live_label": LIVE_STATES[states[customer.id]]}
            for customer in matches
        ],
    }


def customer_names(runs) -> dict[int, str]:
    """{run id: name} of the customers these customer restores bring back: from the live data once
    restored, else from the backup's listing if it is cached (never read from the backup here)."""
    wanted = {
        run.pk: (run, int(run.target))
        for run in runs
        if run.scope == RestoreRun.Scope.CUSTOMER and run.tenant_id and run.target.isascii() and run.target.isdigit()
    }
    if not wanted:
        return {}
    model = record_models()["customer"]
    live = model.all_objects.filter(
        tenant_id__in={run.tenant_id for run, _id in wanted.values()}, pk__in=[pk for _run, pk in wanted.values()]
    )
    names = {(tenant_id, pk): name for tenant_id, pk, name in live.values_list("tenant_id", "pk", "name")}
    found = {run_id: names[run.tenant_id, pk] for run_id, (run, pk) in wanted.items() if (run.tenant_id, pk) in names}
    for run_id, (run, pk) in wanted.items():
        if run_id not in found and run.backup is not None:
            name = listing.cached_names(run.backup, run.tenant, [pk]).get(pk)
            if name:
                found[run_id] = name
    return found


def render_progress(request, full_template: str, partial_template: str, context: dict):
    """The whole page, or only the polled fragment for htmx."""
    template = partial_template if getattr(request, "htmx", False) else full_template
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response
