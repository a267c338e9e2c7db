"""Field history (django-simple-history) that knows who acted, from where and why.

`TracedHistory` takes the actor, request id, IP, process and reason from the
tenant context, so Celery tasks and commands are traced like requests.
Bulk paths write their rows with crm.history.bulk.
"""

from __future__ import annotations

from django.db import models
from django.dispatch import receiver
from simple_history.models import HistoricalRecords
from simple_history.signals import pre_create_historical_record

from crm.tenancy.context import get_context

DEFAULT_REASONS = {"+": "created", "~": "edited", "-": "deleted"}
# The reasons the code itself writes. Any other reason may hold what a person typed, and an
# erasure replaces it (crm.records.erasure).
SYSTEM_REASONS = frozenset(
    {
        *DEFAULT_REASONS.values(),
        "restored",
        "reverted",
        "purged",
        "erased",
        "seeded",
        "retention",
        "restored from backup",
        "audit retention",
        "imported",
        "import reverted",
        # the public pool (pool/)
        "claimed",
        "released",
        "reclaimed",
        "merged",
        "merge undone",
    }
)


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
    """History rows keyed like the records they trace: tenant_id NOT NULL, first in every index.

    The database primary key is (tenant_id, history_id) (crm.records.migration_ops.TenantPrimaryKey),
    history_id is a bigint (Citus generates bigint identities on every node), and the
    only indexes are the two tenant-first ones below: simple-history's lone index on
    history_date is off (SIMPLE_HISTORY_DATE_INDEX = False) and its history_user index
    is dropped here.
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("bases", [HistoryContext])
        kwargs.setdefault("history_id_field", models.BigAutoField(primary_key=True))
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

    def copy_fields(self, model):
        fields = super().copy_fields(model)
        # A history row is its record's at a point in time: always in the record's tenant.
        fields["tenant"].null = fields["tenant"].blank = False
        return fields

    def get_extra_fields(self, model, fields):
        extra = super().get_extra_fields(model, fields)
        extra["history_user"].db_index = False
        return extra

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
