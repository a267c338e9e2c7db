"""Generic create/update of tenant-owned records; apps' actions.py build on these.

Every write validates the whole instance first (so constraint violations are
messages, not 500s) and runs in one transaction. Later layers (history, audit)
hook in here so that no write path can skip them.
"""

from django.db import transaction


@transaction.atomic
def create(model, **values):
    record = model(**values)
    record.full_clean()
    record.save()
    return record


@transaction.atomic
def update(record, **values):
    """Set `values` on `record` and save only those fields (plus auto timestamps)."""
    for name, value in values.items():
        setattr(record, name, value)
    record.full_clean()
    changed = list(values)
    if any(field.name == "updated_at" for field in record._meta.concrete_fields):
        changed.append("updated_at")
    record.save(update_fields=changed)
    return record
