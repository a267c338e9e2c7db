"""The record of a merge of customers or contacts: enough to undo it exactly.

`Merge` is a ledger, not a record type: it names the surviving record, the records merged
into it (in the recycle bin as one batch, `batch`), the survivor's history row from before the
merge (its former values are read from there: no personal values here) and its version after, every child moved (by model, foreign key and former parent) and the
shares added to the survivor. Undo puts each of those back, or refuses while any has
changed since (customers.merging).
"""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.tenancy.models import TenantModel


class Merge(TenantModel):
    record_type = models.CharField(_("record type"), max_length=30)  # customer or contact
    survivor_id = models.BigIntegerField(_("surviving record"))
    merged_ids = ArrayField(models.BigIntegerField(), verbose_name=_("merged records"))
    batch = models.UUIDField(_("recycle-bin batch"))
    choices = models.JSONField(_("field choices"), default=dict)  # {field: id of the record whose value won}
    # {"fields": [attnames the merge changed], "history_id": the survivor's history row before it}
    before = models.JSONField(_("survivor before"), default=dict)
    version_after = models.PositiveIntegerField(_("survivor version after the merge"))
    # [{"model": "customers.contact", "field": "customer", "from": 12, "ids": [...]}, ...]
    moves = models.JSONField(_("children moved"), default=list)
    added_shares = ArrayField(models.BigIntegerField(), default=list, verbose_name=_("shares added"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    created_at = models.DateTimeField(_("merged at"), auto_now_add=True)
    undone_at = models.DateTimeField(_("undone at"), null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )

    class Meta(TenantModel.Meta):
        verbose_name = _("merge")
        verbose_name_plural = _("merges")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "record_type", "survivor_id"], name="merge_tenant_survivor"),
            models.Index(fields=["tenant", "-created_at"], name="merge_tenant_recent"),
        ]

    def __str__(self):
        return f"{self.record_type} #{self.survivor_id} ← {', '.join(map(str, self.merged_ids))}"

    @property
    def moved_count(self) -> int:
        return sum(len(move["ids"]) for move in self.moves)
