"""Imports: upload, mapping, preview, run, revert. One action per step, each with `acting_user`.

Upload and preview write only the import's own rows (the file, the plan per line);
running it writes the records, their history ("imported") and one IMPORT audit event in
one transaction; revert sends what it created to the recycle bin as one batch and puts
back the fields it updated, or refuses, naming the records someone changed since.
"""

from __future__ import annotations

from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.events import record as audit
from audit.models import AuditEvent
from crm.records import actions as records
from crm.records import softdelete
from crm.tenancy.acting import ActionConflict, action, member_role
from crm.tenancy.context import current_tenant
from crm.tenancy.roles import Role
from imports import apply
from imports.files import BadFile, count_rows, read_table
from imports.models import Import, ImportMapping, ImportRow
from imports.plan import Planner
from imports.specs import Spec, normal_header, spec_for, suggest

SHOWN_CONFLICTS = 20
MANAGERS = (Role.ADMIN, Role.MANAGER)


def progress_key(job) -> str:
    return f"imports:progress:{job.tenant_id}:{job.pk}"


def progress(job) -> int:
    """Rows done of job.total: live from the cache while it works."""
    if job.in_progress:
        return min(int(cache.get(progress_key(job)) or 0), job.total)
    return job.total if job.status in (Import.Status.PREVIEWED, Import.Status.DONE, Import.Status.REVERTED) else 0


def spec_of(job_or_type) -> Spec:
    name = job_or_type.record_type if isinstance(job_or_type, Import) else job_or_type
    spec = spec_for(name)
    if spec is None:
        raise ValidationError({"type": _("Choose what to import: customers, contacts, opportunities or tickets.")})
    return spec


def visible_imports(user):
    """The imports a user sees: all of the company's for admins and managers, their own for others."""
    jobs = Import.objects.defer("content")  # the file is read when previewing only
    if user is not None and member_role(user) not in MANAGERS:
        jobs = jobs.filter(created_by=user)
    return jobs


def _check_rights(spec: Spec, mode: str, user) -> None:
    if mode not in Import.Mode.values:
        raise ValidationError({"mode": _("The mode is create, update or upsert.")})
    if mode != Import.Mode.UPDATE:
        records.require(user, "add", spec.model)
    if mode != Import.Mode.CREATE and not records.may(user, "change", spec.model):
        raise PermissionDenied(_("You may not change %(type)s.") % {"type": spec.model._meta.verbose_name_plural})


def check_mapping(spec: Spec, headers: list[str], mapping: dict, mode: str) -> dict[str, str]:
    """The mapping without ignored columns; ValidationError naming what is wrong with it."""
    if not isinstance(mapping, dict):
        raise ValidationError({"mapping": _("The mapping is an object: {column header: field}.")})
    clean, used = {}, set()
    for header, field in mapping.items():
        if not field:
            continue
        if header not in headers:
            raise ValidationError(
                {"mapping": _("The file has no column “%(header)s”.") % {"header": str(header)[:100]}}
            )
        if field not in spec.fields:
            raise ValidationError(
                {"mapping": _("“%(field)s” is not a field that can be imported.") % {"field": str(field)[:60]}}
            )
        if field in used:
            raise ValidationError({"mapping": _("Two columns are mapped to %(field)s.") % {"field": field}})
        used.add(field)
        clean[header] = field
    missing = [field for field in spec.required if field not in used] if mode != Import.Mode.UPDATE else []
    if missing:
        raise ValidationError({"mapping": _("Choose the column of: %(fields)s.") % {"fields": ", ".join(missing)}})
    if not clean:
        raise ValidationError({"mapping": _("Map at least one column.")})
    return clean


def remembered(spec: Spec) -> dict[str, str]:
    return dict(ImportMapping.objects.filter(record_type=spec.name).values_list("header", "field"))


@action
def upload(
    content: bytes, filename: str, record_type: str, *, acting_user, mode="create", mapping=None, allow_duplicates=False
) -> Import:
    """Check the file and keep it, with the mapping given or suggested (nothing else is written)."""
    spec = spec_of(record_type)
    _check_rights(spec, mode, acting_user)
    try:
        table = read_table(content, filename)
    except BadFile as error:
        raise ValidationError({"file": error.messages}) from None
    if mapping is None:
        mapping = suggest(spec, table.headers, remembered(spec))
    else:
        mapping = check_mapping(spec, table.headers, mapping, mode)
    return Import.objects.create(
        record_type=spec.name,
        mode=mode,
        allow_duplicates=bool(allow_duplicates),
        filename=(filename or "upload")[-255:],
        content=content,
        encoding=table.encoding,
        headers=table.headers,
        mapping=mapping,
        total=count_rows(table),
        created_by=acting_user,
    )


def _editable(job: Import, user) -> None:
    if user is not None and job.created_by_id != user.pk and member_role(user) not in MANAGERS:
        raise PermissionDenied(_("Only the person who uploaded it, managers and admins may run this import."))


@action
def set_mapping(job: Import, mapping: dict, mode: str, *, acting_user, allow_duplicates=None) -> Import:
    """Choose the columns and the mode; the company remembers the choices for its next files."""
    _editable(job, acting_user)
    if job.status not in (Import.Status.UPLOADED, Import.Status.PREVIEWED):
        raise ActionConflict(_("This import can no longer be changed."), code="import_started")
    spec = spec_of(job)
    _check_rights(spec, mode, acting_user)
    job.mapping = check_mapping(spec, job.headers, mapping, mode)
    job.mode, job.status = mode, Import.Status.UPLOADED
    if allow_duplicates is not None:
        job.allow_duplicates = bool(allow_duplicates)
    with transaction.atomic():
        job.save(update_fields=["mapping", "mode", "allow_duplicates", "status"])
        for header in job.headers:
            ImportMapping.objects.update_or_create(
                record_type=spec.name, header=normal_header(header), defaults={"field": job.mapping.get(header, "")}
            )
    return job


@action
def preview(job: Import, *, acting_user) -> Import:
    """Plan every line (create, update, skip, error, and why); writes only the plan."""
    _editable(job, acting_user)
    if job.status not in (Import.Status.UPLOADED, Import.Status.PREVIEWED, Import.Status.PREVIEWING):
        raise ActionConflict(_("This import has already run."), code="import_started")
    spec = spec_of(job)
    table = read_table(bytes(job.content), job.filename)
    with transaction.atomic():
        ImportRow.all_objects.filter(tenant_id=job.tenant_id, batch=job).delete()
        counts = Planner(job, spec, acting_user).run(table, lambda done: cache.set(progress_key(job), done, 3600))
        job.created, job.updated, job.skipped, job.errors = (
            counts[name] for name in ("create", "update", "skip", "error")
        )
        job.status = Import.Status.PREVIEWED
        job.save(update_fields=["created", "updated", "skipped", "errors", "status"])
    return job


@action
def run(job: Import, *, acting_user) -> Import:
    """Write the previewed import: records, history rows, one IMPORT audit event, all or nothing."""
    _editable(job, acting_user)
    if job.status not in (Import.Status.PREVIEWED, Import.Status.RUNNING):
        raise ActionConflict(_("Preview the import before running it."), code="not_previewed")
    spec = spec_of(job)
    _check_rights(spec, job.mode, acting_user)
    try:
        with transaction.atomic():
            locked = Import.objects.select_for_update().get(pk=job.pk)
            if locked.status == Import.Status.DONE:
                raise ActionConflict(_("This import has already run."), code="import_started")
            counts = apply.apply_rows(job, spec, acting_user, lambda done: cache.set(progress_key(job), done, 3600))
            job.created, job.updated = counts["created"], counts["updated"]
            job.errors += counts["errors"]
            job.status, job.finished_at = Import.Status.DONE, timezone.now()
            job.content = b""  # the file's data now lives in the records; failed lines keep their cells
            job.save(update_fields=["created", "updated", "errors", "status", "finished_at", "content"])
            audit(
                AuditEvent.Action.IMPORT,
                object_type=spec.name,
                object_id=job.pk,
                count=job.created + job.updated,
                detail=_detail(job),
            )
    except IntegrityError:
        raise ActionConflict(
            _("Someone added or changed matching records while this import ran. Preview it again."),
            code="import_conflict",
        ) from None
    return job


def _detail(job: Import) -> dict:
    return {
        "import": job.pk,
        "created": job.created,
        "updated": job.updated,
        "skipped": job.skipped,
        "errors": job.errors,
    }


@action
def revert(job: Import, *, acting_user) -> Import:
    """Created records to the recycle bin as one batch, updated fields back to what they were."""
    _editable(job, acting_user)
    if job.status != Import.Status.DONE:
        raise ActionConflict(_("Only a finished import can be reverted."), code="not_revertable")
    spec = spec_of(job)
    model = spec.model
    created = apply.created_ids(job)
    if acting_user is not None:
        allowed = model.objects.for_user(acting_user, "delete").filter(pk__in=created).count()
        alive = model.objects.filter(pk__in=created).count()
        if allowed != alive:
            raise PermissionDenied(_("You may not delete some of the records this import created."))
    with transaction.atomic():
        locked = Import.objects.select_for_update().get(pk=job.pk)
        if locked.status != Import.Status.DONE:
            raise ActionConflict(_("Only a finished import can be reverted."), code="not_revertable")
        changed = apply.changed_since(job, spec)
        if changed:
            listed = "; ".join(f"#{pk} {label}" for pk, label in changed[:SHOWN_CONFLICTS])
            more = len(changed) - SHOWN_CONFLICTS
            if more > 0:
                listed += " " + _("and %(count)s more") % {"count": more}
            raise ActionConflict(
                _(
                    "Not reverted: these records were changed after the import: %(records)s. Change them back by hand or revert their history first."
                )
                % {"records": listed},
                code="changed_since",
            )
        batch = softdelete.soft_delete(model.all_objects.filter(tenant=current_tenant(), pk__in=created))
        put_back = apply.put_back(job, spec)
        job.status, job.reverted_at, job.revert_batch = Import.Status.REVERTED, timezone.now(), batch.id
        job.save(update_fields=["status", "reverted_at", "revert_batch"])
        audit(
            AuditEvent.Action.IMPORT_REVERTED,
            object_type=spec.name,
            object_id=job.pk,
            batch=batch.id,
            count=batch.total + put_back,
            detail={"import": job.pk, "counts": batch.counts, "put_back": put_back},
        )
    return job
