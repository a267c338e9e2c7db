"""Field history (django-simple-history) that knows who acted, from where and why.

`TracedHistory` takes the actor, request id, IP, process and reason from the
tenant context, so Celery tasks and commands are traced like requests.
Bulk paths (soft delete, restore, purge) write their history rows with one
INSERT ... SELECT per model: simple-history's bulk helpers need every object
loaded in Python, which is far too slow for 10,000-row batches.
"""

from __future__ import annotations

from django.db import connection, models
from django.dispatch import receiver
from django.utils import timezone
from simple_history.models import HistoricalRecords
from simple_history.signals import pre_create_historical_record

from crm.tenancy.context import get_context

DEFAULT_REASONS = {"+": "created", "~": "edited", "-": "deleted"}


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


@receiver(pre_create_historical_record)
def add_context(sender, history_instance, **kwargs):
    if isinstance(history_instance, HistoryContext):
        context = get_context()
        history_instance.request_id = context.request_id
        history_instance.ip_address = context.ip
        history_instance.process = context.process


def write_bulk_history(model, rows, history_type: str, reason: str, *, cleared=()) -> int:
    """One history row per row of `rows` (a queryset or a list of ids), in one INSERT ... SELECT.

    `cleared`: columns written as NULL in the history row (a restore records the
    rows as they are after it, before the UPDATE that clears them runs).
    """
    if not hasattr(model, "history") or (isinstance(rows, list | tuple | set) and not rows):
        return 0
    history_model = model.history.model
    tracked = [field.attname for field in model._meta.concrete_fields]
    quote = connection.ops.quote_name
    context = get_context()
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
    selected = ", ".join("NULL" if name in cleared else quote(name) for name in tracked)
    if isinstance(rows, models.QuerySet):
        where_sql, where_params = rows.values("pk").query.sql_with_params()
        where = f"{quote(model._meta.pk.column)} IN ({where_sql})"
    else:
        where, where_params = f"{quote(model._meta.pk.column)} = ANY(%s)", [list(rows)]
    sql = (
        f"INSERT INTO {quote(history_model._meta.db_table)} ({', '.join(map(quote, columns))}) "
        f"SELECT {selected}, %s, %s, %s, %s, %s, %s, %s FROM {quote(model._meta.db_table)} WHERE {where}"
    )
    params = [
        timezone.now(),
        history_type,
        getattr(context.user, "pk", None),
        (reason or DEFAULT_REASONS[history_type])[:100],
        context.request_id,
        context.ip,
        context.process,
        *where_params,
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
    _check_links(record, values)
    with amend(reason="reverted"):
        return records.update(
            record, action=AuditEvent.Action.REVERT, detail={"history_id": version.history_id}, **values
        )


def _check_links(record, values) -> None:
    """Refuse values pointing at a record in the recycle bin or at someone no longer a member."""
    from django.conf import settings
    from django.core.exceptions import ValidationError
    from django.utils.translation import gettext as _

    from crm.tenancy.models import Membership

    for field in revertible_fields(type(record)):
        target_id = values.get(field.attname)
        if not field.is_relation or target_id is None:
            continue
        related = field.related_model
        if related._meta.label == settings.AUTH_USER_MODEL:
            if not Membership.objects.filter(tenant_id=record.tenant_id, user_id=target_id).exists():
                raise ValidationError(
                    {field.name: _("%(field)s is no longer a member of the company.") % {"field": field.verbose_name}}
                )
        elif (
            hasattr(related, "deleted") and related.all_objects.filter(pk=target_id, deleted_at__isnull=False).exists()
        ):
            target = related.all_objects.get(pk=target_id)
            raise ValidationError(
                {
                    field.name: _("Its %(type)s “%(record)s” is in the recycle bin; restore it first.")
                    % {"type": related._meta.verbose_name, "record": target}
                }
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
