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


def changes_since(record, seen: int, *, hidden=("updated_at", "version")) -> list[dict]:
    """What changed in `record` after its version `seen`, one entry per write, oldest first:
    {"version", "when", "user" (None: a process), "reason", "fields" (model fields)}.

    Reads the history rows from the last one at `seen` on: two queries however many writes.
    """
    rows = record.history.filter(tenant_id=record.tenant_id, id=record.pk)
    base = rows.filter(version__lte=seen).order_by("-history_id").first()
    later = list(rows.filter(version__gt=seen).select_related("history_user").order_by("history_id"))
    changes, previous = [], base
    for row in later:
        names = []
        if previous is not None:
            names = [change.field for change in row.diff_against(previous, excluded_fields=hidden).changes]
        changes.append(
            {
                "version": row.version,
                "when": row.history_date,
                "user": row.history_user,
                "reason": row.history_change_reason,
                "fields": [record._meta.get_field(name) for name in names],
            }
        )
        previous = row
    return changes
