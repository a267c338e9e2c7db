"""Attaching files and removing them: one action per operation.

Attaching a file changes the record it is on, so it needs the right to change that
record (and the role's right to add attachments). All files of one upload are checked
first (name, type by content, size per file, the company's total) and stored together
or not at all, with a history row each and one audit event. Removing a file is the
recycle bin's delete (crm.recyclebin.actions): undo, retention, legal hold and purge
treat it like any record; a purge deletes its chunks with it.
"""

from __future__ import annotations

import posixpath
import unicodedata

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Sum
from django.http import Http404
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from attachments import filetypes, storage
from attachments.models import Attachment
from audit.events import record as audit
from audit.models import AuditEvent
from crm.records import actions as records
from crm.tenancy.acting import action

QUOTA_LOCK_NAMESPACE = 0x4154434B  # "ATCK": one company's uploads at a time, so the total holds
MAX_FILES_PER_UPLOAD = 20


def visible_record(user, model, pk):
    """The record of `model` with id `pk` if `user` can see it (Http404 otherwise)."""
    record = model.objects.for_user(user, "view").filter(pk=pk).first()
    if record is None:
        raise Http404(_("No %(type)s with id %(id)s.") % {"type": model._meta.verbose_name, "id": pk})
    return record


def attachable(user, model, pk):
    """The record of `model` with id `pk` that `user` may attach files to (Http404 if they cannot see it,
    PermissionDenied if they may not change it)."""
    record = visible_record(user, model, pk)
    if not may_attach(user, record):
        raise PermissionDenied(_("You may not attach files to this %(type)s.") % {"type": model._meta.verbose_name})
    return record


def may_attach(user, record) -> bool:
    return records.may(user, "add", Attachment) and records.may(user, "change", type(record), record)


def clean_name(name: str) -> str:
    """The file's own name: no folders, no control characters, NFC, at most 255 characters (keeping the extension)."""
    name = unicodedata.normalize("NFC", posixpath.basename((name or "").replace("\\", "/")))
    name = "".join(char for char in name if unicodedata.category(char)[0] != "C").strip().strip(".")
    if len(name) > 255:
        stem, dot, ext = name.rpartition(".")
        name = stem[: 254 - len(ext)] + dot + ext if dot and len(ext) < 20 else name[:255]
    return name


def inspect(uploaded) -> tuple[str, str]:
    """(clean name, served type) of one uploaded file, or ValidationError naming the file."""
    name = clean_name(uploaded.name)
    if not name:
        raise ValidationError(_("A file has no name."), code="invalid")
    if uploaded.size > settings.ATTACHMENT_MAX_FILE_BYTES:
        raise ValidationError(
            _("%(name)s is too big (%(size)s): a file may have at most %(limit)s.")
            % {
                "name": name,
                "size": filesizeformat(uploaded.size),
                "limit": filesizeformat(settings.ATTACHMENT_MAX_FILE_BYTES),
            },
            code="too_big",
        )
    try:
        served = filetypes.content_type(name, storage.head(uploaded, filetypes.HEAD_BYTES))
    except filetypes.TypeRefused as refusal:
        raise ValidationError(_("%(name)s: %(reason)s") % {"name": name, "reason": refusal}, code="type") from None
    return name, served


def company_bytes(tenant_id: int) -> int:
    """What the company's files take, those in the recycle bin included (their bytes are still kept)."""
    return Attachment.all_objects.filter(tenant_id=tenant_id).aggregate(total=Sum("size"))["total"] or 0


def _check_quota(tenant_id: int, adding: int) -> None:
    limit = settings.ATTACHMENT_MAX_COMPANY_BYTES
    used = company_bytes(tenant_id)
    if used + adding > limit:
        raise ValidationError(
            _(
                "The company's files would take %(total)s, over its limit of %(limit)s "
                "(%(used)s in use, the recycle bin included). Purge files from the recycle bin or ask an operator."
            )
            % {"total": filesizeformat(used + adding), "limit": filesizeformat(limit), "used": filesizeformat(used)},
            code="quota",
        )


@action
def attach_files(record, files, *, acting_user) -> list[Attachment]:
    """Attach `files` (Django UploadedFiles) to `record`: all of them, or none with a ValidationError."""
    if acting_user is not None and not may_attach(acting_user, record):
        raise PermissionDenied(_("You may not attach files to this %(type)s.") % {"type": record._meta.verbose_name})
    if not files:
        raise ValidationError(_("Choose at least one file."), code="required")
    if len(files) > MAX_FILES_PER_UPLOAD:
        raise ValidationError(_("At most %(count)s files at once.") % {"count": MAX_FILES_PER_UPLOAD}, code="too_many")
    errors, checked = [], []
    for uploaded in files:
        try:
            checked.append((uploaded, *inspect(uploaded)))
        except ValidationError as error:
            errors.extend(error.error_list)
    if errors:
        raise ValidationError(errors)
    on = {record._meta.model_name: record} if record._meta.model_name != "customer" else {}
    customer = record if record._meta.model_name == "customer" else record.customer
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [QUOTA_LOCK_NAMESPACE, record.tenant_id])
        _check_quota(record.tenant_id, sum(uploaded.size for uploaded, _name, _type in checked))
        created = []
        for uploaded, name, served in checked:
            attachment = Attachment(
                tenant_id=record.tenant_id,
                customer=customer,
                name=name,
                content_type=served,
                size=uploaded.size,
                sha256=storage.digest(uploaded),
                uploaded_by=acting_user,
                **on,
            )
            attachment.save()
            storage.write_chunks(attachment, uploaded)
            created.append(attachment)
        ids = [attachment.pk for attachment in created]
        audit(
            AuditEvent.Action.CREATE,
            object_type="attachment",
            object_id=ids[0] if len(ids) == 1 else "",
            count=len(ids),
            detail={
                "ids": ids,
                "on": {"type": record._meta.model_name, "id": record.pk},
                "bytes": sum(attachment.size for attachment in created),
            },
        )
    return created
