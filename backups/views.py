"""Backups in the browser: /backups/ (names under the "backups" namespace).

Who sees what:

- tenant admins (role admin in the active company) and staff (is_staff or
  superuser) see the backup history with the last restore drill of each;
  everyone else gets a 403;
- tenant admins restore their own company, or one customer of it, from a good
  backup, and see their company's restores; a restore of another company is a 404;
- staff alone start a backup ("Back up now") and restore a whole backup into a
  new database, and see those restores.

Restores and backups take minutes, so the views only record what was asked
(a RestoreRun in phase "queued") and hand it to a Celery task; the progress
pages poll with htmx every two seconds until the run ends.
"""

from __future__ import annotations

from functools import partial, wraps
from pathlib import Path

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Prefetch, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods
from django_htmx.http import HttpResponseClientRedirect

from backups import postgres, restore, tasks
from backups.forms import CustomerRestoreForm, DatabaseRestoreForm
from backups.models import Backup, RestoreDrill, RestoreRun
from crm.celery import app as celery_app
from crm.records.registry import record_models
from crm.tenancy.models import Membership
from crm.tenancy.roles import TENANT_ADMIN_ROLES

PAGE_SIZE = 25
RESTORES_PAGE_SIZE = 10
# A restore still "running" after this long belongs to a dead worker; it no longer blocks a new one.
POLL_STATES = frozenset({Backup.Status.RUNNING, RestoreRun.Status.RUNNING})

# The phases the backup code records (stored in English), as shown to people.
PHASES = {
    tasks.QUEUED: gettext_lazy("waiting for a worker to start"),
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
    Backup.Status.RUNNING: "info",
    RestoreRun.Status.DONE: "success",
    RestoreRun.Status.REFUSED: "warning",
}


# -- who may do what ---------------------------------------------------------------


def is_staff(user) -> bool:
    return bool(user.is_authenticated and user.is_active and (user.is_staff or user.is_superuser))


def is_tenant_admin(request) -> bool:
    membership = getattr(request, "membership", None)
    return membership is not None and membership.role in TENANT_ADMIN_ROLES


ALLOWED = {
    "viewers": lambda request: is_tenant_admin(request) or is_staff(request.user),
    "admins": is_tenant_admin,
    "staff": lambda request: is_staff(request.user),
}
DENIED = {
    "viewers": gettext_lazy("Only company administrators and staff may see the backups."),
    "admins": gettext_lazy("Only administrators of this company may restore it from a backup."),
    "staff": gettext_lazy("Only staff may back up or restore the whole database."),
}


def backups_page(who: str, methods=("GET", "HEAD")):
    """Sign-in required, then `who` ("viewers", "admins", "staff") or a 403 page."""

    def decorator(view):
        @login_required
        @require_http_methods(list(methods))
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not ALLOWED[who](request):
                return problem(request, 403, _("Not allowed"), DENIED[who], back_url=reverse("dashboard"))
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def problem(request, status: int, title: str, message: str, back_url: str = ""):
    context = {"status": status, "title": title, "message": message, "back_url": back_url or reverse("backups:list")}
    return render(request, "backups/problem.html", context, status=status)


def visible_restores(request):
    """Restores the user may follow: their company's (admins) and whole-database ones (staff)."""
    scopes = []
    if is_tenant_admin(request):
        scopes.append(Q(tenant=request.tenant))
    if is_staff(request.user):
        scopes.append(Q(tenant__isnull=True, scope=RestoreRun.Scope.DATABASE))
    if not scopes:
        return RestoreRun.objects.none()
    condition = scopes[0]
    for scope in scopes[1:]:
        condition |= scope
    return RestoreRun.objects.filter(condition)


# -- presentation helpers ----------------------------------------------------------


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


def with_latest_drill(backups):
    latest = RestoreDrill.objects.order_by("-started_at", "-id")[:1]
    return backups.prefetch_related(Prefetch("drills", queryset=latest, to_attr="latest_drills"))


def unrestorable(backup: Backup, *, in_place: bool) -> str:
    """Why `backup` cannot be restored ("" when it can). `in_place`: into the live database."""
    if backup.status == Backup.Status.FAILED:
        return _("Backup #%(id)s failed, so there is nothing to restore from it. Choose a good backup.") % {
            "id": backup.pk
        }
    if backup.status == Backup.Status.PRUNED:
        return _(
            "Backup #%(id)s was removed by the retention policy and its file no longer exists. Choose a newer backup."
        ) % {"id": backup.pk}
    if backup.status != Backup.Status.GOOD:
        return _("Backup #%(id)s is still running; wait until it is good.") % {"id": backup.pk}
    if not backup.path or not Path(backup.path).exists():
        return _("The file of backup #%(id)s is missing. Choose another backup.") % {"id": backup.pk}
    if in_place and backup.manifest.get("migrations") != postgres.applied_migrations():
        return _(
            "Backup #%(id)s was taken with a different version of the database schema, so it cannot be "
            "restored into the live data. Staff can restore it into a new database instead."
        ) % {"id": backup.pk}
    return ""


def running_restore(tenant):
    """A restore of `tenant` still at work or waiting for a worker (not one a dead worker left), or None."""
    runs = RestoreRun.objects.filter(tenant=tenant)
    restore.mark_stale_restores(runs)
    return runs.filter(status=RestoreRun.Status.RUNNING).order_by("-started_at").first()


def start_restore(request, backup: Backup, scope: str, target: str, tenant=None) -> RestoreRun:
    """Record the restore as queued and hand it to a worker once the row is committed."""
    with transaction.atomic():
        run = RestoreRun.objects.create(
            backup=backup,
            tenant=tenant,
            scope=scope,
            target=target,
            status=RestoreRun.Status.RUNNING,
            phase=tasks.QUEUED,
            started_at=timezone.now(),
            created_by=request.user,
        )
        transaction.on_commit(partial(tasks.run_restore.delay, run.pk))
    return run


def render_progress(request, full_template: str, partial_template: str, context: dict):
    """The whole page, or only the polled fragment for htmx."""
    template = partial_template if getattr(request, "htmx", False) else full_template
    response = render(request, template, context)
    response["Cache-Control"] = "no-store"
    patch_vary_headers(response, ("HX-Request",))
    return response


# -- the list ----------------------------------------------------------------------


@backups_page("viewers")
def backup_list(request):
    staff = is_staff(request.user)
    backups = with_latest_drill(Backup.objects.select_related("created_by").order_by("-started_at", "-id"))
    page = Paginator(backups, PAGE_SIZE).get_page(request.GET.get("page"))
    restore.mark_stale_restores(visible_restores(request))
    restores = visible_restores(request).select_related("backup", "tenant", "created_by").order_by("-started_at", "-id")
    restores_page = Paginator(restores, RESTORES_PAGE_SIZE).get_page(request.GET.get("restores_page"))
    context = {
        "rows": [backup_row(backup) for backup in page.object_list],
        "page_obj": page,
        "restore_rows": [restore_row(run) for run in restores_page.object_list],
        "restores_page": restores_page,
        "is_staff": staff,
        "is_tenant_admin": is_tenant_admin(request),
    }
    return render(request, "backups/list.html", context)


@backups_page("viewers")
def backup_status(request, pk: int):
    backup = get_object_or_404(with_latest_drill(Backup.objects.select_related("created_by")), pk=pk)
    context = {"row": backup_row(backup), "is_staff": is_staff(request.user)}
    return render_progress(request, "backups/backup_status.html", "backups/_backup_progress.html", context)


# -- restoring the company or one customer (tenant admins) --------------------------


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


@backups_page("admins", methods=("GET", "HEAD", "POST"))
def restore_tenant(request, pk: int):
    backup = get_object_or_404(Backup, pk=pk)
    tenant = request.tenant
    reason = unrestorable(backup, in_place=True)
    if reason:
        return problem(request, 409, _("This backup cannot be restored"), reason)
    running = running_restore(tenant)
    if running is not None:
        messages.warning(request, _("A restore of this company is already running; wait until it ends."))
        return redirect("backups:restore_status", running.pk)
    if request.method == "POST" and request.POST.get("confirm") == "1":
        run = start_restore(request, backup, RestoreRun.Scope.TENANT, tenant.slug, tenant=tenant)
        messages.info(request, _("The restore of %(company)s has started.") % {"company": tenant.name})
        return redirect("backups:restore_status", run.pk)
    context = {
        "backup": backup,
        "backup_when": when(backup.started_at),
        "tenant": tenant,
        "counts": company_counts(backup, tenant),
    }
    return render(request, "backups/restore_tenant.html", context)


@backups_page("admins", methods=("GET", "HEAD", "POST"))
def restore_customer(request, pk: int):
    backup = get_object_or_404(Backup, pk=pk)
    tenant = request.tenant
    reason = unrestorable(backup, in_place=True)
    if reason:
        return problem(request, 409, _("This backup cannot be restored"), reason)
    running = running_restore(tenant)
    if running is not None:
        messages.warning(request, _("A restore of this company is already running; wait until it ends."))
        return redirect("backups:restore_status", running.pk)
    data = request.POST if request.method == "POST" else (request.GET if "customer" in request.GET else None)
    form = CustomerRestoreForm(data)
    context = {"backup": backup, "backup_when": when(backup.started_at), "tenant": tenant, "form": form}
    if form.is_bound and form.is_valid():
        customer_id = form.cleaned_data["customer"]
        if request.method == "POST" and request.POST.get("confirm") == "1":
            run = start_restore(request, backup, RestoreRun.Scope.CUSTOMER, str(customer_id), tenant=tenant)
            messages.info(request, _("The restore of customer #%(id)s has started.") % {"id": customer_id})
            return redirect("backups:restore_status", run.pk)
        model = record_models()["customer"]
        live = model.all_objects.filter(tenant=tenant, pk=customer_id).only("pk", "deleted_at").first()
        context.update(customer_id=customer_id, live=live, confirming=True)
    return render(request, "backups/restore_customer.html", context)


@backups_page("viewers")
def restore_status(request, run_id: int):
    restore.mark_stale_restores(visible_restores(request).filter(pk=run_id))
    run = get_object_or_404(
        visible_restores(request).select_related("backup", "tenant", "created_by", "safety_backup"), pk=run_id
    )
    context = {"row": restore_row(run)}
    return render_progress(request, "backups/restore_status.html", "backups/_restore_progress.html", context)


# -- the whole database (staff) ----------------------------------------------------


@backups_page("staff", methods=("POST",))
def backup_now(request):
    result = tasks.backup_now.delay(user_id=request.user.pk)
    messages.info(request, _("A backup of the whole database was requested."))
    return redirect("backups:backup_pending", task_id=result.id)


@backups_page("staff")
def backup_pending(request, task_id):
    """Until the task's Backup row exists; then on to that backup's progress page."""
    result = celery_app.AsyncResult(str(task_id))
    state = result.state
    info = result.info if isinstance(result.info, dict) else {}
    backup_id = info.get("backup_id") if state in (tasks.BACKUP_STARTED, "SUCCESS") else None
    if backup_id:
        url = reverse("backups:backup_status", args=[backup_id])
        return HttpResponseClientRedirect(url) if getattr(request, "htmx", False) else redirect(url)
    busy = state == "SUCCESS" and info.get("busy")
    failed = state == "FAILURE"
    context = {
        "busy": busy,
        "failed": failed,
        "error": str(result.info) if failed else "",
        "polling": not (busy or failed or state == "SUCCESS"),
    }
    return render_progress(request, "backups/backup_pending.html", "backups/_backup_pending.html", context)


@backups_page("staff", methods=("GET", "HEAD", "POST"))
def restore_database(request, pk: int):
    backup = get_object_or_404(Backup, pk=pk)
    reason = unrestorable(backup, in_place=False)
    if reason:
        return problem(request, 409, _("This backup cannot be restored"), reason)
    form = DatabaseRestoreForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        name = form.cleaned_data["database"]
        run = start_restore(request, backup, RestoreRun.Scope.DATABASE, name)
        messages.info(request, _("The restore into the new database %(name)s has started.") % {"name": name})
        return redirect("backups:restore_status", run.pk)
    context = {"backup": backup, "backup_when": when(backup.started_at), "form": form}
    return render(request, "backups/restore_database.html", context)
