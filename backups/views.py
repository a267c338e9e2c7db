"""Backups in the browser: /backups/ (names under the "backups" namespace).

Who sees and does what is backups.access; every write is one of backups.actions,
whose refusals become pages here: a 403 page, a form error, a 409 page, or (a
restore or backup already running) the list or the running restore with a warning.

Restores and backups take minutes, so the actions only record what was asked
(a RestoreRun in phase "queued", a queued Celery task) and a worker does the
work; the progress pages poll with htmx every two seconds until the run ends.
"""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django_htmx.http import HttpResponseClientRedirect

from backups import access, actions, pitr_drill, presentation, restore, tasks, wal
from backups.actions import RestoreRunning
from backups.forms import CustomerRestoreForm, CustomerSearchForm, DatabaseRestoreForm, MomentRestoreForm
from backups.models import Backup, RestoreRun
from crm.tenancy.acting import ActionConflict, is_staff

PAGE_SIZE = 25
RESTORES_PAGE_SIZE = 10


def backups_page(audience: str, methods=("GET", "HEAD")):
    """Sign-in required, then one of `audience` (see backups.access) or a 403 page."""

    def decorator(view):
        @login_required
        @require_http_methods(list(methods))
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not access.allows(audience, request.user, request.membership):
                return problem(request, 403, _("Not allowed"), access.DENIED[audience], back_url=reverse("dashboard"))
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def problem(request, status: int, title: str, message: str, back_url: str = ""):
    context = {"status": status, "title": title, "message": message, "back_url": back_url or reverse("backups:list")}
    return render(request, "backups/problem.html", context, status=status)


def not_restorable(request, conflict: ActionConflict):
    """A refused restore: the running one to follow, or a 409 page saying why."""
    if isinstance(conflict, RestoreRunning):
        messages.warning(request, str(conflict))
        return redirect("backups:restore_status", conflict.run.pk)
    return problem(request, 409, _("This backup cannot be restored"), str(conflict))


def confirmed(request) -> bool:
    return request.method == "POST" and request.POST.get("confirm") == "1"


def visible_restores(request):
    return access.visible_restores(request.user, request.membership)


# -- the list ----------------------------------------------------------------------


@backups_page(access.VIEWERS)
def backup_list(request):
    page = Paginator(access.backups_with_latest_drill(), PAGE_SIZE).get_page(request.GET.get("page"))
    restore.mark_stale_restores(visible_restores(request))
    restores = visible_restores(request).select_related("backup", "tenant", "created_by").order_by("-started_at", "-id")
    restores_page = Paginator(restores, RESTORES_PAGE_SIZE).get_page(request.GET.get("restores_page"))
    context = {
        "rows": [presentation.backup_row(backup) for backup in page.object_list],
        "page_obj": page,
        "restore_rows": presentation.rows_of_restores(restores_page.object_list),
        "restores_page": restores_page,
        "is_staff": is_staff(request.user),
        "is_tenant_admin": access.is_tenant_admin(request.membership),
        "pitr": wal.status(),
        "pitr_drill": pitr_drill.last_drill() if is_staff(request.user) else None,
    }
    return render(request, "backups/list.html", context)


@backups_page(access.VIEWERS)
def backup_status(request, pk: int):
    backup = get_object_or_404(access.backups_with_latest_drill(), pk=pk)
    context = {"row": presentation.backup_row(backup), "is_staff": is_staff(request.user)}
    return presentation.render_progress(request, "backups/backup_status.html", "backups/_backup_progress.html", context)


# -- restoring the company or one customer (tenant admins) --------------------------


@backups_page(access.ADMINS, methods=("GET", "HEAD", "POST"))
def restore_tenant(request, pk: int):
    backup = get_object_or_404(Backup, pk=pk)
    tenant = request.tenant
    try:
        if confirmed(request):
            run = actions.start_restore(backup, scope=RestoreRun.Scope.TENANT, acting_user=request.user)
            return redirect("backups:restore_status", run.pk)
        actions.check_restore(backup, scope=RestoreRun.Scope.TENANT, user=request.user)
    except ActionConflict as conflict:
        return not_restorable(request, conflict)
    context = {
        "backup": backup,
        "backup_when": presentation.when(backup.started_at),
        "tenant": tenant,
        "counts": presentation.company_counts(backup, tenant),
    }
    return render(request, "backups/restore_tenant.html", context)


@backups_page(access.ADMINS, methods=("GET", "HEAD", "POST"))
def restore_customer(request, pk: int):
    """Find the customer by name in the backup (?q=), confirm the one chosen (?customer=), start (POST)."""
    backup = get_object_or_404(Backup, pk=pk)
    tenant = request.tenant
    data = request.POST if request.method == "POST" else (request.GET if "customer" in request.GET else None)
    form = CustomerRestoreForm(data)
    search = CustomerSearchForm(request.GET if "q" in request.GET else None)
    context = {"backup": backup, "backup_when": presentation.when(backup.started_at), "form": form, "search": search}
    try:
        actions.check_restore(backup, scope=RestoreRun.Scope.CUSTOMER, user=request.user)
        if form.is_bound and form.is_valid():
            customer_id = form.cleaned_data["customer"]
            if confirmed(request):
                run = actions.start_restore(
                    backup, scope=RestoreRun.Scope.CUSTOMER, customer=customer_id, acting_user=request.user
                )
                return redirect("backups:restore_status", run.pk)
            customer = actions.check_customer(backup, tenant, customer_id)
            live = presentation.live_states(tenant, [customer.id])[customer.id]
            context.update(customer=customer, live=live, confirming=True)
        elif search.is_bound and search.is_valid():
            context.update(presentation.customer_matches(backup, tenant, search.cleaned_data["q"]))
    except ActionConflict as conflict:
        return not_restorable(request, conflict)
    except ValidationError as error:
        form.add_error(None, error)
    if getattr(request, "htmx", False) and "q" in request.GET:
        return render(request, "backups/_customer_matches.html", context)
    return render(request, "backups/restore_customer.html", context)


@backups_page(access.VIEWERS)
def restore_status(request, run_id: int):
    restore.mark_stale_restores(visible_restores(request).filter(pk=run_id))
    run = get_object_or_404(
        visible_restores(request).select_related("backup", "tenant", "created_by", "safety_backup"), pk=run_id
    )
    context = {"row": presentation.rows_of_restores([run])[0]}
    return presentation.render_progress(
        request, "backups/restore_status.html", "backups/_restore_progress.html", context
    )


# -- the whole database (staff) ----------------------------------------------------


@backups_page(access.STAFF, methods=("POST",))
def backup_now(request):
    try:
        task_id = actions.start_backup(acting_user=request.user)
    except ActionConflict as conflict:  # another backup holds the lock: its progress is on the list
        messages.warning(request, str(conflict))
        return redirect("backups:list")
    messages.info(request, _("A backup of the whole database was requested."))
    return redirect("backups:backup_pending", task_id=task_id)


@backups_page(access.STAFF)
def backup_pending(request, task_id):
    """Until the task's Backup row exists; then on to that backup's progress page."""
    outcome = tasks.backup_task_outcome(str(task_id))
    if outcome.backup_id:
        url = reverse("backups:backup_status", args=[outcome.backup_id])
        return HttpResponseClientRedirect(url) if getattr(request, "htmx", False) else redirect(url)
    context = {
        "busy": outcome.state == "busy",
        "failed": outcome.state == "failed",
        "error": outcome.error,
        "polling": outcome.state == "queued",
    }
    return presentation.render_progress(request, "backups/backup_pending.html", "backups/_backup_pending.html", context)


@backups_page(access.STAFF, methods=("GET", "HEAD", "POST"))
def restore_database(request, pk: int):
    backup = get_object_or_404(Backup, pk=pk)
    form = DatabaseRestoreForm(request.POST if request.method == "POST" else None)
    try:
        actions.check_restore(backup, scope=RestoreRun.Scope.DATABASE, user=request.user)
        if form.is_bound and form.is_valid():
            name = form.cleaned_data["database"]
            run = actions.start_restore(
                backup, scope=RestoreRun.Scope.DATABASE, database=name, acting_user=request.user
            )
            return redirect("backups:restore_status", run.pk)
    except ActionConflict as conflict:
        return not_restorable(request, conflict)
    except ValidationError as error:
        form.add_error(None, error)
    context = {"backup": backup, "backup_when": presentation.when(backup.started_at), "form": form}
    return render(request, "backups/restore_database.html", context)


# -- restoring to a moment (point-in-time recovery) ----------------------------------


def moment_scopes(request) -> list[tuple[str, str]]:
    """What this user may bring back as it was at a moment: their company or one customer of it
    (its admins), the whole database into a new one (staff)."""
    scopes = []
    if access.is_tenant_admin(request.membership):
        scopes += [
            (RestoreRun.Scope.TENANT.value, _("The whole company %(name)s, in place") % {"name": request.tenant.name}),
            (RestoreRun.Scope.CUSTOMER.value, _("One customer of the company, with its records")),
        ]
    if is_staff(request.user):
        scopes.append((RestoreRun.Scope.DATABASE.value, _("The whole database, into a new database")))
    return scopes


@backups_page(access.VIEWERS, methods=("GET", "HEAD", "POST"))
def restore_to_moment(request):
    """Pick a moment in the window (in the user's time zone) and what to bring back; confirm; start."""
    form = MomentRestoreForm(request.POST if request.method == "POST" else None, scopes=moment_scopes(request))
    context = {"form": form, "pitr": wal.status(), "tenant": request.tenant}
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        scope = data["scope"]
        values = {
            "customer": data["customer"] if scope == RestoreRun.Scope.CUSTOMER else None,
            "database": data["database"] if scope == RestoreRun.Scope.DATABASE else None,
        }
        try:
            if confirmed(request):
                run = actions.start_restore_to_moment(data["moment"], scope=scope, acting_user=request.user, **values)
                return redirect("backups:restore_status", run.pk)
            actions.check_moment(data["moment"])
            context.update(confirming=True, scope=scope, moment=presentation.when(data["moment"]), **values)
        except ActionConflict as conflict:
            return not_restorable(request, conflict)
        except ValidationError as error:
            form.add_error(None, error)
            context["confirming"] = False
    return render(request, "backups/restore_moment.html", context)
