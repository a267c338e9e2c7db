"""Create and change records of any registered type; the apps' actions build on these.

Every write checks the acting user's right first (the restricting queryset is
the one rule), validates the whole instance (so constraint violations are
messages, not 500s), runs in one transaction, and leaves a history row
(simple-history, on save) and one audit event naming the changed fields.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import router, transaction
from django.db.models.signals import post_save
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.events import record as audit
from audit.models import AuditEvent
from crm.history.bulk import write_bulk_history
from crm.records.versions import NEXT_VERSION, VersionConflict
from crm.tenancy.acting import action
from crm.tenancy.context import current_tenant

IDS_IN_EVENT = 1000  # an event lists the ids it touched up to this many


def may(user, right: str, model, record=None) -> bool:
    """Whether `user` may take `right` on `model` at all, or on `record` (None, the system, may)."""
    if user is None:
        return True
    allowed = model.objects.for_user(user, right)
    if record is None:
        return not allowed.query.is_empty()
    return allowed.filter(pk=record.pk).exists()


def require(user, right: str, model, record=None) -> None:
    """PermissionDenied unless `may(...)`."""
    if not may(user, right, model, record):
        noun = model._meta.verbose_name_plural if record is None else model._meta.verbose_name
        if right == "add":
            raise PermissionDenied(_("You may not add %(type)s.") % {"type": noun})
        raise PermissionDenied(_("You may not change this %(type)s.") % {"type": noun})


@action
def create(model, *, acting_user, **values):
    require(acting_user, "add", model)
    with transaction.atomic():
        record = model(**values)
        if record.tenant_id is None:
            record.tenant = current_tenant()  # before validation: uniqueness is per tenant
        record.full_clean()
        record.save()
        audit(AuditEvent.Action.CREATE, target=record)
    return record


@action
def update(record, *, acting_user, audit_action=AuditEvent.Action.UPDATE, detail=None, expected_version=None, **values):
    """Set `values` on `record`; save and audit only the fields that really changed.

    `expected_version` (by default the record's `seen_version`, which edit forms and the API's
    If-Match set): the version the person saw; when the record has moved on since,
    VersionConflict and nothing is written. The check is the UPDATE's own
    `WHERE id = %s AND version = %s`; the row read first is locked, so without an
    expected version the edit applies to the version just read.
    """
    require(acting_user, "change", type(record), record)
    model = type(record)
    if expected_version is None:
        expected_version = getattr(record, "seen_version", None)
    with transaction.atomic():
        rows = model.all_objects.filter(pk=record.pk).select_for_update(of=("self",))
        stored = rows.values(*values, "version").first() or {}
        current = stored.get("version")
        if expected_version is not None and current != expected_version:
            raise VersionConflict(record, seen=expected_version, current=current)
        for name, value in values.items():
            setattr(record, name, value)
        record.full_clean()
        changed = [name for name in values if stored.get(name) != getattr(record, _attname(record, name))]
        if not changed:
            return record
        written = {_attname(record, name): getattr(record, _attname(record, name)) for name in changed}
        if any(field.name == "updated_at" for field in model._meta.concrete_fields):
            record.updated_at = written["updated_at"] = timezone.now()
        seen = current if expected_version is None else expected_version
        if not model.all_objects.filter(pk=record.pk, version=seen).update(**written, version=NEXT_VERSION):
            raise VersionConflict(record, seen=seen, current=None)
        record.version = seen + 1
        # What save() would have sent: simple-history writes the record's history row from it.
        using = router.db_for_write(model, instance=record)
        post_save.send(model, instance=record, created=False, update_fields=frozenset(written), raw=False, using=using)
        audit(audit_action, target=record, detail={"fields": sorted(changed), **(detail or {})})
    return record


def _attname(record, name):
    return record._meta.get_field(name).attname


@action
def update_many(queryset, *, acting_user, **values) -> int:
    """One UPDATE of `values` on the rows of `queryset` the acting user may change,
    with a history row each and one audit event."""
    model = queryset.model
    allowed = queryset if acting_user is None else queryset.filter(pk__in=model.objects.for_user(acting_user, "change"))
    with transaction.atomic():
        # Locked in id order (no deadlocks): a row selected as seen stays so until the UPDATE.
        ids = list(allowed.order_by("pk").select_for_update(of=("self",)).values_list("pk", flat=True))
        if not ids:
            return 0
        if any(field.name == "updated_at" for field in model._meta.concrete_fields):
            values.setdefault("updated_at", timezone.now())
        changed = model.all_objects.filter(pk__in=ids).update(**values, version=NEXT_VERSION)
        write_bulk_history(model, ids, "~", "edited")
        audit(
            AuditEvent.Action.UPDATE,
            object_type=model._meta.model_name,
            count=changed,
            detail={"ids": ids[:IDS_IN_EVENT], "fields": sorted(name for name in values if name != "updated_at")},
        )
    return changed
