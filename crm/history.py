"""Field history (django-simple-history) that knows who acted, from where and why.

`TracedHistory` takes the actor, request id, IP, process and reason from the
tenant context, so Celery tasks and commands are traced like requests.
Bulk paths (soft delete, restore, purge) write their history rows with one
INSERT ... SELECT per model: simple-history's bulk helpers need every object
loaded in Python, which is far too slow for 10,000-row batches.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar

from django.db import connection, models
from django.dispatch import receiver
from django.utils import timezone
from simple_history.models import HistoricalRecords
from simple_history.signals import pre_create_historical_record

from crm.tenancy.context import get_context

DEFAULT_REASONS = {"+": "created", "~": "edited", "-": "deleted"}
_bulk_history = ContextVar("crm_bulk_history", default=False)


class HistoryContext(models.Model):
    """Extra columns of every history row: where the change came from."""

    request_id = models.CharField(max_length=64, blank=True, default="")
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    process = models.CharField(max_length=100, blank=True, default="")

    class Meta:
        abstract = True


def acting_user(instance=None, request=None, **kwargs):
    user = get_context().user
    return user if getattr(user, "pk", None) else None


class TracedHistory(HistoricalRecords):
    def __init__(self, **kwargs):
        kwargs.setdefault("bases", [HistoryContext])
        kwargs.setdefault("get_user", acting_user)
        kwargs.setdefault("user_db_constraint", False)
        kwargs.setdefault("history_change_reason_field", models.CharField(max_length=100, null=True))
        super().__init__(**kwargs)

    def finalize(self, sender, **kwargs):
        # History tables index by tenant first, like every tenant-owned table.
        self.no_db_index = [
            field.name for field in sender._meta.concrete_fields if field.is_relation or field.primary_key
        ]
        super().finalize(sender, **kwargs)

    def get_meta_options(self, model):
        options = super().get_meta_options(model)
        name = model._meta.model_name
        options["indexes"] = [
            models.Index(fields=["tenant", "id", "-history_date"], name=f"{name}_hist_record"),
            models.Index(fields=["tenant", "-history_date"], name=f"{name}_hist_date"),
        ]
        return options

    def get_change_reason_for_object(self, instance, history_type, using):
        return (
            super().get_change_reason_for_object(instance, history_type, using)
            or get_context().reason
            or DEFAULT_REASONS[history_type]
        )

    def post_delete(self, instance, using=None, **kwargs):
        if not _bulk_history.get():
            super().post_delete(instance, using=using, **kwargs)


@receiver(pre_create_historical_record)
def add_context(sender, history_instance, **kwargs):
    if isinstance(history_instance, HistoryContext):
        context = get_context()
        history_instance.request_id = context.request_id
        history_instance.ip_address = context.ip
        history_instance.process = context.process


@contextmanager
def bulk_history():
    """The block writes its own history rows; per-object delete history is skipped."""
    token = _bulk_history.set(True)
    try:
        yield
    finally:
        _bulk_history.reset(token)


def write_bulk_history(model, ids, history_type: str, reason: str) -> int:
    """One history row per id, copied from the current row in one INSERT ... SELECT."""
    if not ids or not hasattr(model, "history"):
        return 0
    history_model = model.history.model
    tracked = [field.attname for field in model._meta.concrete_fields]
    quote = connection.ops.quote_name
    context = get_context()
    user_id = getattr(context.user, "pk", None)
    columns = [
        *tracked,
        "history_date",
        "history_type",
        "history_user_id",
        "history_change_reason",
        "request_id",
        "ip_address",
        "process",
    ]
    sql = (
        f"INSERT INTO {quote(history_model._meta.db_table)} ({', '.join(map(quote, columns))}) "
        f"SELECT {', '.join(quote(name) for name in tracked)}, %s, %s, %s, %s, %s, %s, %s "
        f"FROM {quote(model._meta.db_table)} WHERE {quote(model._meta.pk.column)} = ANY(%s)"
    )
    params = [
        timezone.now(),
        history_type,
        user_id,
        (reason or DEFAULT_REASONS[history_type])[:100],
        context.request_id,
        context.ip,
        context.process,
        list(ids),
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


# Fields a revert never puts back: identity, tenancy, bin state and timestamps.
NOT_REVERTED = {"id", "tenant", "deleted_at", "deleted_by", "deletion_batch", "created_at", "updated_at"}


def revertible_fields(model) -> list:
    return [field for field in model._meta.concrete_fields if field.name not in NOT_REVERTED and field.editable]


def version_of(record, history_id):
    """One historical version of `record` (404-style None when it is not this record's)."""
    return record.history.filter(history_id=history_id).first()


def revert(record, version):
    """Put a version's values back as a new, audited change (reason "reverted").

    Raises ValidationError, changing nothing, when the old values would break
    a rule today (a unique email taken since, a deleted customer...).
    """
    from audit.models import AuditEvent
    from crm import records
    from crm.tenancy.context import amend

    values = {field.attname: getattr(version, field.attname) for field in revertible_fields(type(record))}
    with amend(reason="reverted"):
        return records.update(
            record, action=AuditEvent.Action.REVERT, detail={"history_id": version.history_id}, **values
        )


def diff(version) -> list[dict]:
    """[{field, label, old, new}] between a version and the one before it."""
    previous = version.prev_record
    if previous is None:
        return []
    delta = version.diff_against(previous, excluded_fields=["updated_at"])
    model = version.instance_type
    return [
        {
            "field": change.field,
            "label": model._meta.get_field(change.field).verbose_name,
            "old": change.old,
            "new": change.new,
        }
        for change in delta.changes
    ]
