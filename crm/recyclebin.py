"""Recycle-bin actions: delete, undo, restore, purge, retention, listing.

The one place where views, the API and tasks check who may do what to
deleted records; the mechanics live in crm.softdelete.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta

from django.core.exceptions import EmptyResultSet, PermissionDenied
from django.db import connection, transaction
from django.db.models import CharField, Count, F, Q, Value
from django.db.models.functions import Left
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.events import record as audit
from audit.models import AuditEvent
from crm import softdelete
from crm.pagination import COUNT_CAP
from crm.permissions import purge_permission, purgeable
from crm.tenancy.context import current_tenant
from crm.tenancy.querysets import membership_for

LABEL_LENGTH = 200
RETENTION_CHUNK = 1000
IDS_IN_EVENT = 1000  # an event lists the ids it touched up to this many


class NotInBin(Http404):
    """The record is not in this tenant's recycle bin (never was, restored, or purged)."""


def record_types() -> dict[str, type]:
    """{"customer": Customer, ...} for every soft-deletable model, in cascade order."""
    return {model._meta.model_name: model for model in softdelete.cascade_order()}


def model_for(type_name: str):
    model = record_types().get(type_name)
    if model is None:
        raise NotInBin(_("Unknown record type: %(type)s") % {"type": type_name})
    return model


@dataclass(frozen=True)
class Item:
    model: type
    pk: int


# -- deleting --------------------------------------------------------------------


def preview(user, queryset) -> dict[str, int]:
    """What deleting `queryset` would move to the bin (the user must be allowed to)."""
    return softdelete.preview_delete(_deletable(user, queryset))


# Permission checks run before the transaction opens, so that the audit event of
# a refusal is committed even though the refused action raises.


def delete(user, queryset) -> softdelete.Batch:
    """Soft-delete `queryset` with its children, as one batch; all or nothing."""
    allowed = _deletable(user, queryset)
    with transaction.atomic():
        ids = list(allowed.values_list("pk", flat=True))
        batch = softdelete.soft_delete(allowed)
        _audit(AuditEvent.Action.DELETE, queryset.model, ids, batch=batch.id, counts=batch.counts)
    return batch


def _audit(action, model, ids, *, batch=None, counts=None, **detail):
    ids = sorted(ids)
    audit(
        action,
        object_type=model._meta.model_name,
        object_id=ids[0] if len(ids) == 1 else "",
        batch=batch,
        count=sum(counts.values()) if counts else len(ids),
        detail={"ids": ids[:IDS_IN_EVENT], "counts": counts or {}, **detail},
    )


def refuse(message, action: str, model, ids) -> PermissionDenied:
    """Record a refused destructive attempt (outside any rolled-back transaction) and return the error."""
    _audit(AuditEvent.Action.REFUSED, model, ids, attempted=action)
    return PermissionDenied(message)


def _deletable(user, queryset):
    model = queryset.model
    wanted = set(queryset.values_list("pk", flat=True))
    allowed = model.objects.for_user(user, "delete").filter(pk__in=wanted)
    if len(wanted) != allowed.count():
        raise refuse(_("You may not delete some of these records."), "delete", model, wanted)
    return allowed


# -- restoring -------------------------------------------------------------------


def _in_bin(user, items: list[Item], action: str) -> dict[type, list[int]]:
    """{model: ids} after checking every item is in the bin (404) and allowed (403)."""
    by_model = _by_model(items)
    for model, ids in by_model.items():
        present = set(model.deleted.filter(pk__in=ids).values_list("pk", flat=True))
        missing = set(ids) - present
        if missing:
            raise NotInBin(
                _("%(type)s %(id)s is not in the recycle bin.") % {"type": model._meta.verbose_name, "id": min(missing)}
            )
        if action == "restore":
            allowed = model.deleted.for_user(user, "restore").filter(pk__in=ids)
        else:
            allowed = purgeable(membership_for(user), model.deleted.for_user(user, "view").filter(pk__in=ids))
        if allowed.count() != len(present):
            raise refuse(
                _("You may not restore some of these records.")
                if action == "restore"
                else _("You may not permanently delete some of these records."),
                action,
                model,
                ids,
            )
    return by_model


def _by_model(items: list[Item]) -> dict[type, list[int]]:
    by_model: dict[type, list[int]] = defaultdict(list)
    for item in items:
        by_model[item.model].append(item.pk)
    return by_model


def _count(tree: dict[type, set[int]]) -> dict[str, int]:
    return {model._meta.model_name: len(ids) for model, ids in tree.items() if ids}


def preview_restore(items: list[Item]) -> dict[str, int]:
    """How many rows restoring `items` brings back: each with its children deleted in the same batch."""
    rows: dict[type, set[int]] = defaultdict(set)
    for model, ids in _by_model(items).items():
        same_batch = Q(
            deleted_at__isnull=False, deletion_batch__in=model.deleted.filter(pk__in=ids).values("deletion_batch")
        )
        for target, target_ids in softdelete.collect_cascade(model, ids, state=same_batch).items():
            rows[target] |= set(target_ids)
    return _count(rows)


def preview_purge(items: list[Item]) -> dict[str, int]:
    """What purging `items` deletes for good: the records and everything hanging off them."""
    rows: dict[type, set[int]] = defaultdict(set)
    for model, ids in _by_model(items).items():
        for target, target_ids in softdelete.collect_cascade(model, ids).items():
            rows[target] |= set(target_ids)
    return _count(rows)


def check_purge_allowed(user, action="purge") -> None:
    """Nothing is purged by hand while the tenant is on legal hold (a refusal is recorded)."""
    if current_tenant().legal_hold:
        audit(AuditEvent.Action.REFUSED, detail={"attempted": action, "reason": "legal_hold"})
        raise PermissionDenied(_("This company is on legal hold: nothing may be permanently deleted."))


def restore(user, items: list[Item]) -> dict[str, int]:
    """Restore these records, each with the children deleted together with it."""
    selection = _in_bin(user, items, "restore")
    with transaction.atomic():
        counts = softdelete.restore_selection(selection)
        for model, ids in selection.items():
            _audit(AuditEvent.Action.RESTORE, model, ids, counts=counts)
    return counts


def batch_items(batch_id) -> list[Item]:
    tenant = current_tenant()
    return [
        Item(model, pk)
        for model in record_types().values()
        for pk in model.all_objects.filter(tenant=tenant, deletion_batch=batch_id, deleted_at__isnull=False)
        .order_by("pk")
        .values_list("pk", flat=True)
    ]


def restore_batch(user, batch_id) -> dict[str, int]:
    """Undo: restore exactly the rows deleted in one batch."""
    items = batch_items(batch_id)
    if not items:
        raise NotInBin(_("Nothing from that deletion is left in the recycle bin."))
    _in_bin(user, items, "restore")
    with transaction.atomic():
        counts = softdelete.restore_batch(current_tenant(), batch_id)
        audit(AuditEvent.Action.RESTORE, batch=batch_id, count=sum(counts.values()), detail={"counts": counts})
    return counts


# -- purging ---------------------------------------------------------------------


def purge(user, items: list[Item]) -> dict[str, int]:
    """Permanently delete these records and what hangs off them (per-object permission)."""
    counts: dict[str, int] = defaultdict(int)
    selection = _in_bin(user, items, "purge")
    check_purge_allowed(user)
    with transaction.atomic():
        for model, ids in selection.items():
            purged = softdelete.purge_rows(model, ids)
            _audit(AuditEvent.Action.PURGE, model, ids, counts=purged)
            for name, count in purged.items():
                counts[name] += count
    return dict(counts)


def grant_purge(user, member, record) -> None:
    """An admin lets a manager purge one record."""
    _change_purge_grant(user, member, record, grant=True)


def revoke_purge(user, member, record) -> None:
    _change_purge_grant(user, member, record, grant=False)


def _change_purge_grant(user, member, record, *, grant: bool):
    from guardian.shortcuts import assign_perm, remove_perm

    from crm.permissions import Role
    from crm.tenancy.models import Membership

    membership = membership_for(user)
    if membership is None or membership.role != Role.ADMIN:
        raise refuse(_("Only admins may grant permanent delete."), "grant_purge", type(record), [record.pk])
    if grant and not Membership.objects.filter(tenant=current_tenant(), user=member, role=Role.MANAGER).exists():
        raise PermissionDenied(_("Permanent delete can be granted to managers of this company only."))
    permission = purge_permission(type(record))
    with transaction.atomic():
        (assign_perm if grant else remove_perm)(permission, member, record)
        audit(
            AuditEvent.Action.PERMISSION_GRANT if grant else AuditEvent.Action.PERMISSION_REVOKE,
            target=record,
            detail={"permission": permission, "user_id": member.pk},
        )


def empty_bin(user) -> dict[str, int]:
    """Purge everything in the tenant's bin the user may purge (admins: everything)."""
    check_purge_allowed(user, "empty_bin")
    counts: dict[str, int] = defaultdict(int)
    for model in record_types().values():
        while True:
            ids = list(
                purgeable(membership_for(user), model.deleted.all())
                .order_by("pk")
                .values_list("pk", flat=True)[:RETENTION_CHUNK]
            )
            if not ids:
                break
            with transaction.atomic():
                purged = softdelete.purge_rows(model, ids)
                _audit(AuditEvent.Action.PURGE, model, ids, counts=purged, empty_bin=True)
            for name, count in purged.items():
                counts[name] += count
    return dict(counts)


def purge_expired(tenant, now=None, chunk=RETENTION_CHUNK) -> dict[str, int]:
    """Purge the tenant's bin items older than its retention period, chunk by chunk.

    Each chunk is its own transaction, so a worker that dies half-way leaves
    a consistent state and the next run carries on where it stopped.
    """
    if tenant.legal_hold:
        return {}
    cutoff = (now or timezone.now()) - timedelta(days=tenant.retention_days)
    counts: dict[str, int] = defaultdict(int)
    for model in record_types().values():  # parents first: children go with them
        expired = model.all_objects.filter(tenant=tenant, deleted_at__lt=cutoff).order_by("pk")
        last = 0
        while True:
            ids = list(expired.filter(pk__gt=last).values_list("pk", flat=True)[:chunk])
            if not ids:
                break
            with transaction.atomic():
                purged = softdelete.purge_rows(model, ids)
                if purged:
                    _audit(AuditEvent.Action.RETENTION_PURGE, model, ids, counts=purged)
            for name, count in purged.items():
                counts[name] += count
            last = ids[-1]
    return dict(counts)


# -- listing ---------------------------------------------------------------------


class BinEntries:
    """The recycle-bin rows a user may restore, newest first: a sliceable sequence for Paginator.

    A page is a UNION ALL of one SELECT per record type, each walking its
    (tenant, deleted_at) index and stopping after the rows the page needs: a
    single ORDER BY over the union would sort every deleted row first.
    Counting stops at COUNT_CAP per type. Each row has id, type, label,
    deleted_at, deleted_by_id and deletion_batch.
    """

    ORDER = ("-deleted_at", "-id")

    def __init__(self, parts):
        self.parts = parts

    def count(self) -> int:
        return sum(part.order_by()[: COUNT_CAP + 1].count() for part in self.parts)

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, key):
        if not isinstance(key, slice) or key.stop is None or key.step or not self.parts:
            return list(self)[key]
        start = key.start or 0
        if len(self.parts) == 1:
            return list(self.parts[0].order_by(*self.ORDER)[start : key.stop])
        # The ORM cannot order a union of sliced selects, so the outer SELECT is written here.
        selects, params = [], []
        for part in self.parts:
            try:
                sql, part_params = part.order_by(*self.ORDER)[: key.stop].query.sql_with_params()
            except EmptyResultSet:  # a filter no row can match
                continue
            selects.append(f"({sql})")
            params.extend(part_params)
        if not selects:
            return []
        sql = (
            f"SELECT * FROM ({' UNION ALL '.join(selects)}) AS bin "
            f"ORDER BY deleted_at DESC, id DESC LIMIT {int(key.stop - start)} OFFSET {int(start)}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            names = [column.name for column in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def __iter__(self):
        if not self.parts:
            return iter(())
        first, *rest = self.parts
        rows = first.union(*rest, all=True) if rest else first
        return iter(rows.order_by(*self.ORDER))


def entries(user, *, types=None, deleted_by=None, since=None, until=None, search="", batch=None, record_id=None):
    """Every deleted record the user may restore, filtered, newest first (see BinEntries)."""
    parts = []
    for name, model in record_types().items():
        if types and name not in types:
            continue
        rows = model.deleted.for_user(user, "restore")
        if deleted_by:
            rows = rows.filter(deleted_by=deleted_by)
        if since:
            rows = rows.filter(deleted_at__gte=since)
        if until:
            rows = rows.filter(deleted_at__lt=until)
        if batch:
            rows = rows.filter(deletion_batch=batch)
        if search:
            rows = rows.filter(**{f"{model.label_field}__icontains": search})
        if record_id is not None:
            rows = rows.filter(pk=record_id)
        if rows.query.is_empty():  # a type the user may not restore
            continue
        parts.append(
            rows.annotate(
                type=Value(name, output_field=CharField()),
                label=Left(F(model.label_field), LABEL_LENGTH),
            ).values("id", "type", "label", "deleted_at", "deleted_by_id", "deletion_batch")
        )
    return BinEntries(parts)


def batch_sizes(batch_ids) -> dict:
    """{batch id: number of records still in the bin from that deletion} (one query per type)."""
    sizes: dict = defaultdict(int)
    batch_ids = [batch for batch in batch_ids if batch]
    if not batch_ids:
        return sizes
    tenant = current_tenant()
    for model in record_types().values():
        rows = (
            model.all_objects.filter(tenant=tenant, deletion_batch__in=batch_ids)
            .values("deletion_batch")
            .annotate(n=Count("id"))
            .order_by()
        )
        for row in rows:
            sizes[row["deletion_batch"]] += row["n"]
    return sizes


def purge_after(tenant, deleted_at):
    """When retention purges an item (None while the tenant is on legal hold)."""
    return None if tenant.legal_hold else deleted_at + timedelta(days=tenant.retention_days)
