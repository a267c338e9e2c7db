"""Soft delete: nothing a user deletes is lost by accident.

A delete moves the record and its children into the recycle bin as one
batch (same deleted_at, deleted_by and deletion_batch); restoring the batch
brings back exactly those rows. Everything is set-based: one locking SELECT
and one UPDATE per model per batch, never a loop over objects.

Lock order (to avoid deadlocks between concurrent deletes, restores and
purges): models in CASCADE_ORDER (parents before children), rows by primary
key within a model.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.db import models, transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from guardian.models import UserObjectPermissionBase

from crm.history import bulk_history, write_bulk_history
from crm.tenancy.context import current_tenant, get_context
from crm.tenancy.models import TenantModel
from crm.tenancy.querysets import TenantQuerySet

ALIVE = Q(deleted_at__isnull=True)


class RestoreConflict(Exception):
    """A restore that would break a rule; nothing was changed. `str()` is the user message."""

    def __init__(self, message, *, parent=None):
        super().__init__(message)
        self.parent = parent  # a deleted parent the user may restore first


class SoftDeleteQuerySet(TenantQuerySet):
    def alive(self):
        return self.filter(ALIVE)

    def dead(self):
        return self.filter(deleted_at__isnull=False)

    def delete(self):
        """Soft delete: the rows (and their children) go to the bin as one batch."""
        batch = soft_delete(self)
        return batch.total, batch.counts

    delete.queryset_only = True

    def hard_delete(self):
        """Really DELETE the rows: only `purge()` calls this, after its checks."""
        return super().delete()

    hard_delete.queryset_only = True


class _ScopedManager(models.Manager.from_queryset(SoftDeleteQuerySet)):
    state = Q()

    def get_queryset(self):
        return super().get_queryset().filter(self.state, tenant=current_tenant())


class AliveManager(_ScopedManager):
    """`objects`: the active tenant's rows that are not in the recycle bin."""

    state = ALIVE


class DeletedManager(_ScopedManager):
    """`deleted`: the active tenant's rows in the recycle bin."""

    state = Q(deleted_at__isnull=False)


def managers_for(queryset_class):
    """(objects, deleted, all_objects) managers built on a model's own queryset class."""
    return (
        AliveManager.from_queryset(queryset_class)(),
        DeletedManager.from_queryset(queryset_class)(),
        models.Manager.from_queryset(queryset_class)(),
    )


class PurgePermissionBase(UserObjectPermissionBase):
    """A direct foreign-key guardian permission row (subclasses add `content_object`)."""

    tenant = models.ForeignKey("tenancy.Tenant", on_delete=models.CASCADE, related_name="+", editable=False)

    class Meta(UserObjectPermissionBase.Meta):
        abstract = True

    def save(self, *args, **kwargs):
        if self.tenant_id is None:
            self.tenant_id = self.content_object.tenant_id
        super().save(*args, **kwargs)


class SoftDeleteModel(TenantModel):
    """Adds the recycle-bin columns and managers to a tenant-owned model.

    `all_objects` (the base manager) is neither tenant-scoped nor filtered:
    related access never crashes, and only system code (retention, backups)
    uses it directly.
    """

    deleted_at = models.DateTimeField(gettext_lazy("deleted at"), null=True, blank=True, editable=False)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        db_index=False,
        verbose_name=gettext_lazy("deleted by"),
    )
    deletion_batch = models.UUIDField(gettext_lazy("deletion batch"), null=True, blank=True, editable=False)

    objects = AliveManager()
    deleted = DeletedManager()
    all_objects = models.Manager.from_queryset(SoftDeleteQuerySet)()

    # Fields whose values must be unique among alive rows (see alive_unique()).
    alive_unique_checks: tuple = ()
    # The field that names a record in the recycle bin.
    label_field = "name"

    class Meta(TenantModel.Meta):
        abstract = True
        base_manager_name = "all_objects"

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    def delete(self, using=None, keep_parents=False):
        batch = soft_delete(type(self).all_objects.filter(pk=self.pk))
        self.refresh_from_db(fields=["deleted_at", "deleted_by", "deletion_batch"])
        return batch.total, batch.counts

    def hard_delete(self):
        return super().delete()


def soft_delete_indexes(model_name: str) -> list[models.Index]:
    """The recycle bin's indexes: newest deletions first, and each batch."""
    return [
        models.Index(fields=["tenant", "-deleted_at"], condition=Q(deleted_at__isnull=False), name=f"{model_name}_bin"),
        models.Index(
            fields=["tenant", "deletion_batch"],
            condition=Q(deletion_batch__isnull=False),
            name=f"{model_name}_batch",
        ),
    ]


@dataclass(frozen=True)
class AliveUnique:
    """A uniqueness rule among alive rows, kept so restore can check it."""

    expressions: tuple
    condition: Q
    message: str


def alive_unique(model_name: str, *expressions, name: str, condition: Q | None = None, message=""):
    """A partial UniqueConstraint (tenant first, alive rows only) and its restore check."""
    condition = condition or Q()
    constraint = models.UniqueConstraint(
        models.F("tenant"),
        *expressions,
        condition=condition & ALIVE,
        name=name,
        violation_error_message=message or None,
    )
    return constraint, AliveUnique(expressions, condition, message)


# -- the cascade ---------------------------------------------------------------


def soft_delete_models():
    from django.apps import apps

    return [model for model in apps.get_models() if issubclass(model, SoftDeleteModel)]


def cascade_order() -> list[type[SoftDeleteModel]]:
    """Soft-deletable models, every parent before its children (the lock order)."""
    remaining = sorted(soft_delete_models(), key=lambda model: model._meta.label)
    ordered: list = []
    while remaining:
        for model in remaining:
            parents = {parent for parent, _field in parent_links(model)}
            if parents <= set(ordered) | {model}:
                ordered.append(model)
                remaining.remove(model)
                break
        else:  # a cycle: keep label order
            ordered.extend(remaining)
            break
    return ordered


def parent_links(model) -> list[tuple[type, str]]:
    """(parent model, FK field name) for FKs whose parent's delete takes this row along."""
    links = []
    for fk in model._meta.concrete_fields:
        if (
            fk.is_relation
            and fk.many_to_one
            and issubclass(fk.related_model, SoftDeleteModel)
            and fk.remote_field.on_delete in (models.CASCADE, models.PROTECT)
        ):
            links.append((fk.related_model, fk.name))
    return links


def child_links(parent) -> list[tuple[type, str]]:
    """(child model, FK field name) for every model cascading from `parent`."""
    return [
        (model, field_name)
        for model in cascade_order()
        for linked_parent, field_name in parent_links(model)
        if linked_parent is parent
    ]


@dataclass
class Batch:
    id: uuid.UUID
    deleted_at: object = None
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _lock(queryset, lock=True) -> list[int]:
    """Lock the rows in primary-key order and return their ids."""
    queryset = queryset.order_by("pk")
    if lock:
        queryset = queryset.select_for_update(of=("self",))
    return list(queryset.values_list("pk", flat=True))


def collect_cascade(model, ids, *, state: Q, lock=True) -> dict[type, list[int]]:
    """{model: ids}: `ids` of `model` and, recursively, their children in `state` (locked)."""
    found: dict[type, list[int]] = defaultdict(list)
    found[model] = list(ids)
    for current in cascade_order():
        parent_ids = found.get(current)
        if not parent_ids:
            continue
        for child, fk_name in child_links(current):
            child_ids = _lock(child.all_objects.filter(state, **{f"{fk_name}__in": parent_ids}), lock)
            found[child] = sorted(set(found[child]) | set(child_ids))
    return {model: ids for model, ids in found.items() if ids}


def preview_delete(queryset) -> dict[str, int]:
    """What a delete of `queryset` would move to the bin, per model name, without changing anything."""
    ids = _lock(queryset.alive(), lock=False)
    return {
        _label(model): len(ids) for model, ids in collect_cascade(queryset.model, ids, state=ALIVE, lock=False).items()
    }


def _label(model) -> str:
    return model._meta.model_name


@transaction.atomic
def soft_delete(queryset) -> Batch:
    """Move the alive rows of `queryset` and their alive children to the bin as one batch."""
    model = queryset.model
    context = get_context()
    batch = Batch(id=uuid.uuid4(), deleted_at=timezone.now())
    ids = _lock(model.all_objects.filter(pk__in=queryset.alive().values("pk")))
    if not ids:
        return batch
    for target, target_ids in collect_cascade(model, ids, state=ALIVE).items():
        batch.counts[_label(target)] = target.all_objects.filter(pk__in=target_ids, deleted_at__isnull=True).update(
            deleted_at=batch.deleted_at,
            deleted_by=context.user if getattr(context.user, "pk", None) else None,
            deletion_batch=batch.id,
        )
        write_bulk_history(target, target_ids, "~", "deleted")
    return batch


# -- restore ---------------------------------------------------------------------


def restore_batch(tenant, batch_id) -> dict[str, int]:
    """Restore every row of one deletion batch; rows deleted in other batches stay deleted."""
    selection = {
        model: model.all_objects.filter(tenant=tenant, deletion_batch=batch_id).values_list("pk", flat=True)
        for model in cascade_order()
    }
    return restore_rows({model: list(ids) for model, ids in selection.items() if ids})


def restore_records(records) -> dict[str, int]:
    """Restore these deleted records, each with the children deleted in the same batch."""
    by_model: dict[type, list[int]] = defaultdict(list)
    for record in records:
        by_model[type(record)].append(record.pk)
    return restore_selection(by_model)


def restore_selection(by_model: dict[type, list[int]]) -> dict[str, int]:
    """{model: ids} of deleted rows -> restore them with their same-batch descendants."""
    rows: dict[type, set[int]] = defaultdict(set)
    for model in cascade_order():
        ids = by_model.get(model)
        if not ids:
            continue
        roots = model.all_objects.filter(pk__in=ids, deleted_at__isnull=False)
        for target, target_ids in _same_batch_descendants(model, roots).items():
            rows[target] |= set(target_ids)
    return restore_rows({model: sorted(ids) for model, ids in rows.items()})


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


@transaction.atomic
def restore_rows(rows: dict[type, list[int]]) -> dict[str, int]:
    """Restore exactly these deleted rows, after checking parents and uniqueness.

    Raises RestoreConflict (and changes nothing) when a row's parent stays in
    the bin or an alive row now holds one of its unique values.
    """
    # Lock the rows and their parents, parents first (the global lock order), so
    # that a concurrent delete of a parent cannot slip in between check and update.
    to_lock: dict[type, set[int]] = defaultdict(set)
    for model, ids in rows.items():
        to_lock[model] |= set(ids)
        for parent, fk_name in parent_links(model):
            to_lock[parent] |= set(model.all_objects.filter(pk__in=ids).values_list(f"{fk_name}_id", flat=True))
    for model in cascade_order():
        if to_lock.get(model):
            _lock(model.all_objects.filter(pk__in=to_lock[model]))
    locked = {
        model: ids
        for model in cascade_order()
        if rows.get(model)
        and (
            ids := list(
                model.all_objects.filter(pk__in=rows[model], deleted_at__isnull=False).values_list("pk", flat=True)
            )
        )
    }
    for model, ids in locked.items():
        _check_parents_alive(model, ids, locked)
        _check_unique(model, ids)
    counts = {}
    for model, ids in locked.items():
        counts[_label(model)] = model.all_objects.filter(pk__in=ids).update(
            deleted_at=None, deleted_by=None, deletion_batch=None
        )
        write_bulk_history(model, ids, "~", "restored")
    return {label: count for label, count in counts.items() if count}


def _check_parents_alive(model, ids, restoring: dict[type, list[int]]):
    for parent, fk_name in parent_links(model):
        coming_back = restoring.get(parent, [])
        orphan = (
            model.all_objects.filter(pk__in=ids, **{f"{fk_name}__deleted_at__isnull": False})
            .exclude(**{f"{fk_name}__in": coming_back})
            .select_related(fk_name)
            .first()
        )
        if orphan is not None:
            parent_record = getattr(orphan, fk_name)
            raise RestoreConflict(
                _("%(record)s cannot be restored while its %(type)s “%(parent)s” is in the recycle bin.")
                % {
                    "record": orphan,
                    "type": parent._meta.verbose_name,
                    "parent": parent_record,
                },
                parent=parent_record,
            )


def _check_unique(model, ids):
    """Refuse when a restoring row's unique value is held by an alive row, or by another restoring row."""
    for rule in model.alive_unique_checks:
        keys = {f"_k{index}": expression for index, expression in enumerate(rule.expressions)}
        restoring = model.all_objects.filter(rule.condition, pk__in=ids).annotate(**keys)
        alive = model.all_objects.filter(rule.condition, ALIVE, tenant=OuterRef("tenant")).annotate(**keys)
        clash = (
            restoring.filter(Exists(alive.filter(**{key: OuterRef(key) for key in keys})))  # one index probe per row
            .order_by("pk")
            .first()
        )
        if clash is None:  # two restoring rows sharing a value: one GROUP BY
            twice = list(restoring.values("tenant", *keys).annotate(n=Count("pk")).filter(n__gt=1).order_by()[:1])
            if twice:
                twice[0].pop("n")
                clash = restoring.filter(**twice[0]).order_by("pk").first()
        if clash is not None:
            raise RestoreConflict(
                _("%(record)s cannot be restored: %(rule)s") % {"record": clash, "rule": rule.message}
            )


# -- purge -----------------------------------------------------------------------


class PurgeRefused(Exception):
    """A purge that would take alive rows with it; nothing was changed."""


@transaction.atomic
def purge_rows(model, ids) -> dict[str, int]:
    """Really delete deleted rows of `model` and every row hanging off them (children first).

    Rows already gone are skipped, so running a purge again is harmless.
    """
    roots = _lock(model.all_objects.filter(pk__in=ids, deleted_at__isnull=False))
    tree = collect_cascade(model, roots, state=Q())
    for target, target_ids in tree.items():
        alive = target.all_objects.filter(pk__in=target_ids, deleted_at__isnull=True).first()
        if alive is not None:
            raise PurgeRefused(_("%(record)s is not in the recycle bin; it would be lost too.") % {"record": alive})
    for target in reversed(cascade_order()):  # children before the rows they point to
        if tree.get(target):
            write_bulk_history(target, tree[target], "-", "purged")
            with bulk_history():
                target.all_objects.filter(pk__in=tree[target]).hard_delete()
    return {_label(target): len(tree[target]) for target in cascade_order() if tree.get(target)}
