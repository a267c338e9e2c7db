"""Soft delete: nothing a user deletes is lost by accident.

A delete moves the record and its children into the recycle bin as one
batch (same deleted_at, deleted_by and deletion_batch); restoring the batch
brings back exactly those rows. Everything is set-based: one UPDATE (and one
INSERT ... SELECT of history rows) per model per batch, never a loop over
objects. Deletes, restores and purges of a tenant are serialised by one
transaction-scoped advisory lock (lock_tenant), so they never deadlock or
interleave on overlapping rows. Which rows go with which is the registry's
cascade (crm.records.registry).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import connection, models, transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.history.bulk import write_bulk_history
from crm.records.models import ALIVE
from crm.records.permissions import end_grants
from crm.records.registry import cascade_order, child_links, parent_links
from crm.records.versions import NEXT_VERSION
from crm.tenancy.acting import ActionConflict
from crm.tenancy.context import get_context

BIN_LOCK_NAMESPACE = 0x5242494E  # "RBIN": keeps these advisory locks apart from others


class RestoreConflict(ActionConflict):
    """A restore that would break a rule; nothing was changed. `str()` is the user message."""

    code = "restore_conflict"

    def __init__(self, message, *, parent=None):
        super().__init__(message)
        self.parent = parent  # a deleted parent the user may restore first


@dataclass
class Batch:
    id: uuid.UUID
    deleted_at: object = None
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


class Counts(dict):
    """{type name: rows} a restore or purge moved, and how many purge grants it ended."""

    grants_ended: int = 0


def type_name(model) -> str:
    return model._meta.model_name


def lock_tenant(*tenant_ids) -> None:
    """Serialise the tenant's deletes, restores and purges (transaction-scoped).

    Every such operation takes this lock first, so two of them never interleave
    on overlapping rows (no deadlocks, no restore racing a delete of its parent);
    ordinary single-row edits are not blocked. Row locks on thousands of rows
    would double the writes of a bulk delete.
    """
    with connection.cursor() as cursor:
        for tenant_id in sorted(set(tenant_ids)):
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [BIN_LOCK_NAMESPACE, tenant_id])


def collect_cascade(model, ids, *, state: Q | None = None) -> dict[type, list[int]]:
    """{model: ids}: `ids` of `model` and, recursively, the rows hanging off them in `state`."""
    state = state or Q()
    found: dict[type, list[int]] = {model: sorted(ids)}
    for current in cascade_order():
        parent_ids = found.get(current)
        if not parent_ids:
            continue
        for child, fk_name in child_links(current):
            child_ids = child.all_objects.filter(state, **{f"{fk_name}__in": parent_ids}).values_list("pk", flat=True)
            found[child] = sorted(set(found.get(child, [])) | set(child_ids))
    return {model: ids for model, ids in found.items() if ids}


def preview_delete(queryset) -> dict[str, int]:
    """What a delete of `queryset` would move to the bin, per model name, without changing anything."""
    ids = list(queryset.alive().values_list("pk", flat=True))
    return {type_name(model): len(ids) for model, ids in collect_cascade(queryset.model, ids, state=ALIVE).items()}


@transaction.atomic
def soft_delete(queryset) -> Batch:
    """Move the alive rows of `queryset` and their alive children to the bin as one batch.

    One UPDATE per model, the children found through the batch just written,
    and one INSERT ... SELECT of history rows per model.
    """
    model = queryset.model
    rows = list(queryset.alive().order_by().values_list("pk", "tenant_id"))
    batch = Batch(id=uuid.uuid4(), deleted_at=timezone.now())
    if not rows:
        return batch
    lock_tenant(*(tenant_id for _pk, tenant_id in rows))
    user = get_context().user
    marks = {
        "deleted_at": batch.deleted_at,
        "deleted_by": user if getattr(user, "pk", None) else None,
        "deletion_batch": batch.id,
        "version": NEXT_VERSION,
    }
    tenants = {tenant_id for _pk, tenant_id in rows}
    batch.counts[type_name(model)] = model.all_objects.filter(ALIVE, pk__in=[pk for pk, _t in rows]).update(**marks)
    for current in cascade_order():
        if current is not model and not batch.counts.get(type_name(current)):
            continue
        in_batch = current.all_objects.filter(tenant__in=tenants, deletion_batch=batch.id)
        for child, fk_name in child_links(current):
            moved = child.all_objects.filter(ALIVE, tenant__in=tenants, **{f"{fk_name}__in": in_batch.values("pk")})
            batch.counts[type_name(child)] = batch.counts.get(type_name(child), 0) + moved.update(**marks)
    for current in cascade_order():
        if batch.counts.get(type_name(current)):
            in_batch = current.all_objects.filter(tenant__in=tenants, deletion_batch=batch.id)
            write_bulk_history(current, in_batch, "~", "deleted")
    batch.counts = {label: count for label, count in batch.counts.items() if count}
    return batch


# -- restore ---------------------------------------------------------------------

BIN_STATE = ("deleted_at", "deleted_by_id", "deletion_batch")


@transaction.atomic
def restore_batch(tenant, batch_id) -> Counts:
    """Restore every row of one deletion batch; rows deleted in other batches stay deleted."""
    lock_tenant(tenant.pk)
    selection = {
        model: model.all_objects.filter(tenant=tenant, deletion_batch=batch_id, deleted_at__isnull=False)
        for model in cascade_order()
    }
    return _restore({model: rows for model, rows in selection.items() if rows.exists()}, same_batch=batch_id)


def restore_selection(by_model: dict[type, list[int]]) -> Counts:
    """{model: ids} of deleted rows -> restore them with their same-batch descendants."""
    with transaction.atomic():
        tenants = {
            tenant_id
            for model, ids in by_model.items()
            for tenant_id in model.all_objects.filter(pk__in=ids).values_list("tenant_id", flat=True).distinct()
        }
        lock_tenant(*tenants)
        rows: dict[type, set[int]] = defaultdict(set)
        for model in cascade_order():
            ids = by_model.get(model)
            if ids:
                roots = model.all_objects.filter(pk__in=ids, deleted_at__isnull=False)
                for target, target_ids in _same_batch_descendants(model, roots).items():
                    rows[target] |= set(target_ids)
        return _restore({model: model.all_objects.filter(pk__in=sorted(ids)) for model, ids in rows.items() if ids})


def _same_batch_descendants(model, roots) -> dict[type, list[int]]:
    found = {model: list(roots.values_list("pk", flat=True))}
    batches = {model: roots.values("deletion_batch")}
    for current in cascade_order():
        if current not in found:
            continue
        for child, fk_name in child_links(current):
            children = child.all_objects.filter(
                **{f"{fk_name}__in": found[current]},
                deleted_at__isnull=False,
                deletion_batch__in=batches[current],
            )
            ids = list(children.values_list("pk", flat=True))
            if ids:
                found[child] = sorted(set(found.get(child, [])) | set(ids))
                batches[child] = child.all_objects.filter(pk__in=found[child]).values("deletion_batch")
    return found


def _restore(selection: dict[type, models.QuerySet], same_batch=None) -> Counts:
    """Restore the deleted rows of each queryset, after checking parents and uniqueness.

    A purge grant lasts while its record is in the bin: the grants on restored rows end,
    so deleting them again needs a new grant.

    Raises RestoreConflict (and changes nothing) when a row's parent stays in
    the bin or an alive row now holds one of its unique values. Runs inside
    the caller's transaction, under the tenant lock.
    """
    selection = {model: rows.filter(deleted_at__isnull=False) for model, rows in selection.items()}
    for model, rows in selection.items():
        _check_parents_alive(model, rows, selection, same_batch)
        _check_unique(model, rows)
    counts = Counts()
    for model, rows in selection.items():
        restored = list(rows.values_list("tenant_id", "pk"))
        write_bulk_history(model, rows, "~", "restored", cleared=BIN_STATE, bumped=True)
        counts[type_name(model)] = model.all_objects.filter(pk__in=rows.values("pk")).update(
            deleted_at=None, deleted_by=None, deletion_batch=None, version=NEXT_VERSION
        )
        counts.grants_ended += end_grants(model, {tenant for tenant, _pk in restored}, [pk for _t, pk in restored])
    for label in [label for label, count in counts.items() if not count]:
        del counts[label]
    return counts


def _check_parents_alive(model, rows, selection, same_batch):
    for parent, fk_name in parent_links(model):
        orphans = rows.filter(**{f"{fk_name}__deleted_at__isnull": False})
        if same_batch is not None:
            orphans = orphans.exclude(**{f"{fk_name}__deletion_batch": same_batch})
        elif parent in selection:
            orphans = orphans.exclude(**{f"{fk_name}__in": selection[parent].values("pk")})
        orphan = orphans.select_related(fk_name).order_by("pk").first()
        if orphan is not None:
            parent_record = getattr(orphan, fk_name)
            raise RestoreConflict(
                _("%(record)s cannot be restored while its %(type)s “%(parent)s” is in the recycle bin.")
                % {"record": orphan, "type": parent._meta.verbose_name, "parent": parent_record},
                parent=parent_record,
            )


def _check_unique(model, restoring):
    """Refuse when a restoring row's unique value is held by an alive row, or by another restoring row."""
    for rule in model.alive_unique_checks:
        keys = {f"_k{index}": expression for index, expression in enumerate(rule.expressions)}
        candidates = restoring.filter(rule.condition).annotate(**keys)
        alive = model.all_objects.filter(rule.condition, ALIVE, tenant=OuterRef("tenant")).annotate(**keys)
        clash = (
            candidates.filter(Exists(alive.filter(**{key: OuterRef(key) for key in keys})))  # an index probe per row
            .order_by("pk")
            .first()
        )
        if clash is None:  # two restoring rows sharing a value: one GROUP BY
            twice = list(candidates.values("tenant", *keys).annotate(n=Count("pk")).filter(n__gt=1).order_by()[:1])
            if twice:
                twice[0].pop("n")
                clash = candidates.filter(**twice[0]).order_by("pk").first()
        if clash is not None:
            raise RestoreConflict(
                _("%(record)s cannot be restored: %(rule)s") % {"record": clash, "rule": rule.message}
            )
