"""Reading versions: which fields a revert puts back, and one record's version by id."""

# Fields a revert never puts back: identity, tenancy, bin state and timestamps.
NOT_REVERTED = {"id", "tenant", "deleted_at", "deleted_by", "deletion_batch", "created_at", "updated_at"}


def revertible_fields(model) -> list:
    return [field for field in model._meta.concrete_fields if field.name not in NOT_REVERTED and field.editable]


def version_of(record, history_id):
    """One historical version of `record`, or None when it is not this record's."""
    return record.history.filter(tenant_id=record.tenant_id, history_id=history_id).first()


def changed_values(record, version) -> dict:
    """{attname: the version's value} for the revertible fields the version would change."""
    values = {}
    for field in revertible_fields(type(record)):
        then = getattr(version, field.attname)
        if then != getattr(record, field.attname):
            values[field.attname] = then
    return values
