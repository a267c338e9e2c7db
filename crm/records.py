"""Generic create/update of tenant-owned records; apps' actions.py build on these.

Every write validates the whole instance first (so constraint violations are
messages, not 500s), runs in one transaction, and leaves a history row
(simple-history, on save) and an audit event naming the changed fields.
"""

from django.db import transaction
from django.utils import timezone

from audit.events import record as audit
from audit.models import AuditEvent
from crm.tenancy.context import current_tenant


@transaction.atomic
def create(model, **values):
    record = model(**values)
    if hasattr(record, "tenant_id") and record.tenant_id is None:
        record.tenant = current_tenant()  # before validation: uniqueness is per tenant
    record.full_clean()
    record.save()
    audit(AuditEvent.Action.CREATE, target=record)
    return record


@transaction.atomic
def update(record, action=AuditEvent.Action.UPDATE, detail=None, **values):
    """Set `values` on `record`; save and audit only the fields that really changed."""
    stored = type(record).all_objects.filter(pk=record.pk).values(*values).first() or {}
    for name, value in values.items():
        setattr(record, name, value)
    record.full_clean()
    changed = [name for name in values if stored.get(name) != getattr(record, _attname(record, name))]
    if not changed:
        return record
    save_fields = [*changed, *("updated_at" for field in record._meta.concrete_fields if field.name == "updated_at")]
    record.save(update_fields=save_fields)
    audit(action, target=record, detail={"fields": sorted(changed), **(detail or {})})
    return record


def _attname(record, name):
    return record._meta.get_field(name).attname


@transaction.atomic
def update_many(queryset, **values) -> int:
    """One UPDATE of `values` on the rows of `queryset`, with a history row each and one audit event."""
    from crm.history import write_bulk_history

    model = queryset.model
    ids = list(queryset.order_by("pk").values_list("pk", flat=True))
    if not ids:
        return 0
    if any(field.name == "updated_at" for field in model._meta.concrete_fields):
        values.setdefault("updated_at", timezone.now())
    changed = model.all_objects.filter(pk__in=ids).update(**values)
    write_bulk_history(model, ids, "~", "edited")
    audit(
        AuditEvent.Action.UPDATE,
        object_type=model._meta.model_name,
        count=changed,
        detail={"ids": ids[:1000], "fields": sorted(name for name in values if name != "updated_at")},
    )
    return changed
