"""Big imports run on a worker: the preview and the write each as one task, the page polling
the progress (rows done of total). Small files run at once, in the request."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from crm.tenancy.acting import ActionConflict
from crm.tenancy.context import activate
from crm.tenancy.models import Tenant
from imports import actions
from imports.models import Import

log = logging.getLogger(__name__)
STEPS = {"preview": (Import.Status.PREVIEWING, actions.preview), "run": (Import.Status.RUNNING, actions.run)}


def rows_run_at_once() -> int:
    """Files up to this many rows are previewed and written in the request (IMPORT_SYNC_ROWS)."""
    return getattr(settings, "IMPORT_SYNC_ROWS", 2000)


def start(job: Import, step: str, user, *, and_run: bool = False) -> Import:
    """Preview or run `job`: now when it is small, else on a worker (the job shows its progress).
    `and_run`: a preview that finds the file fit is written straight away (the API without dry_run)."""
    status, function = STEPS[step]
    if job.total <= rows_run_at_once():
        job = function(job, acting_user=user)
        return start(job, "run", user) if and_run and job.status == Import.Status.PREVIEWED else job
    if step == "run" and job.status != Import.Status.PREVIEWED:
        raise ActionConflict(_("Preview the import before running it."), code="not_previewed")
    Import.objects.filter(pk=job.pk).update(status=status, message="")
    job.status = status
    tenant_id, user_id = job.tenant_id, getattr(user, "pk", None)
    transaction.on_commit(lambda: work.delay(tenant_id, job.pk, step, user_id, and_run))
    return job


@shared_task(name="imports.work")
def work(tenant_id: int, job_id: int, step: str, user_id: int | None, and_run: bool = False) -> str:
    tenant = Tenant.objects.get(pk=tenant_id)
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    with activate(tenant, process=f"celery:import {step}", reason="imported"):
        job = Import.objects.get(pk=job_id)
        _status, function = STEPS[step]
        try:
            function(job, acting_user=user)
            if and_run:
                Import.objects.filter(pk=job_id).update(status=Import.Status.RUNNING)
                step = "run"
                actions.run(Import.objects.get(pk=job_id), acting_user=user)
        except (ValidationError, PermissionDenied, ActionConflict) as error:
            message = " ".join(error.messages) if isinstance(error, ValidationError) else str(error)
            fallback = Import.Status.UPLOADED if step == "preview" else Import.Status.PREVIEWED
            Import.objects.filter(pk=job_id).update(status=fallback, message=message[:2000])
            _tell_who_started(job, step)
            return "refused"
        except Exception:
            log.exception("Import %s failed", job_id)
            Import.objects.filter(pk=job_id).update(
                status=Import.Status.FAILED, message=_("The import failed; nothing was written.")
            )
            _tell_who_started(job, step)
            raise
        _tell_who_started(job, step)
    return "done"


def _tell_who_started(job: Import, step: str) -> None:
    """An import written on a worker notifies whoever started it (job_finished), however it ended.
    (A preview is not the end of an import; a small import runs in the request, in front of them.)"""
    from activities import notify

    if step == "run":
        notify.job_finished(job.tenant, job.created_by_id, notify.JOB_IMPORT, job.pk, job.filename)
