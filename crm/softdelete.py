"""Soft delete: nothing a user deletes is lost by accident.

A delete moves the record and its children into the recycle bin as one
batch (same deleted_at, deleted_by and deletion_batch); restoring the batch
brings back exactly those rows. Everything is set-based: one UPDATE (and one
INSERT ... SELECT of history rows) per model per batch, never a loop over
objects. Deletes, restores and purges of a tenant are serialised by one
transaction-scoped advisory lock (lock_tenant), so they never deadlock or
interleave on overlapping rows.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from guardian.models import UserObjectPermissionBase

from crm.history import write_bulk_history
from crm.tenancy.context import current_tenant, get_context
from crm.tenancy.models import TenantModel
from crm.tenancy.querysets import TenantQuerySet

ALIVE = Q(deleted_at__isnull=True)
BIN_LOCK_NAMESPACE = 0x5242494E  # "RBIN": keeps these advisory locks apart from others


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
    """A direct foreign-key guardian permission row (subclasses add `content_object` with
    tenant_foreign_key and an index on (tenant, content_object))."""

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


def tenant_key(model_name: str) -> models.UniqueConstraint:
    """UNIQUE (tenant_id, id): what composite foreign keys from child tables reference."""
    return models.UniqueConstraint(fields=["tenant", "id"], name=f"{model_name}_tenant_key")


def tenant_foreign_key(to, **kwargs) -> models.ForeignKey:
    """A foreign key whose database constraint is composite: (tenant_id, <fk>_id) -> (tenant_id, id).

    The constraint is added by the app's migration (crm.migration_ops.AddTenantForeignKey):
    PostgreSQL then refuses a child in another tenant than its parent, and checks the key
    with the child's tenant-first index (a single-column FK would need an index of its own).
    """
    return models.ForeignKey(to, db_constraint=False, db_index=False, **kwargs)


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
    """Soft-deletable models, every parent before its children."""
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


def _label(model) -> str:
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
    return {_label(model): len(ids) for model, ids in collect_cascade(queryset.model, ids, state=ALIVE).items()}


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
    }
    tenants = {tenant_id for _pk, tenant_id in rows}
    batch.counts[_label(model)] = model.all_objects.filter(ALIVE, pk__in=[pk for pk, _t in rows]).update(**marks)
    for current in cascade_order():
        if current is not model and not batch.counts.get(_label(current)):
            continue
        in_batch = current.all_objects.filter(tenant__in=tenants, deletion_batch=batch.id)
        for child, fk_name in child_links(current):
            moved = child.all_objects.filter(ALIVE, tenant__in=tenants, **{f"{fk_name}__in": in_batch.values("pk")})
            batch.counts[_label(child)] = batch.counts.get(_label(child), 0) + moved.update(**marks)
    for current in cascade_order():
        if batch.counts.get(_label(current)):
            in_batch = current.all_objects.filter(tenant__in=tenants, deletion_batch=batch.id)
            write_bulk_history(current, in_batch, "~", "deleted")
    batch.counts = {label: count for label, count in batch.counts.items() if count}
    return batch


# -- restore ---------------------------------------------------------------------

BIN_STATE = ("deleted_at", "deleted_by_id", "deletion_batch")


@transaction.atomic
def restore_batch(tenant, batch_id) -> dict[str, int]:
    """Restore every row of one deletion batch; rows deleted in other batches stay deleted."""
    lock_tenant(tenant.pk)
    selection = {
        model: model.all_objects.filter(tenant=tenant, deletion_batch=batch_id, deleted_at__isnull=False)
        for model in cascade_order()
    }
    return _restore({model: rows for model, rows in selection.items() if rows.exists()}, same_batch=batch_id)


def restore_selection(by_model: dict[type, list[int]]) -> dict[str, int]:
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


def _restore(selection: dict[type, models.QuerySet], same_batch=None) -> dict[str, int]:
    """Restore the deleted rows of each queryset, after checking parents and uniqueness.

    Raises RestoreConflict (and changes nothing) when a row's parent stays in
    the bin or an alive row now holds one of its unique values. Runs inside
    the caller's transaction, under the tenant lock.
    """
    selection = {model: rows.filter(deleted_at__isnull=False) for model, rows in selection.items()}
    for model, rows in selection.items():
        _check_parents_alive(model, rows, selection, same_batch)
        _check_unique(model, rows)
    counts = {}
    for model, rows in selection.items():
        write_bulk_history(model, rows, "~", "restored", cleared=BIN_STATE)
        counts[_label(model)] = model.all_objects.filter(pk__in=rows.values("pk")).update(
            deleted_at=None, deleted_by=None, deletion_batch=None
        )
    return {label: count for label, count in counts.items() if count}


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


# -- purge -----------------------------------------------------------------------


class PurgeRefused(Exception):
    """A purge that would take alive rows with it; nothing was changed."""


@transaction.atomic
def purge_rows(model, ids) -> dict[str, int]:
    """Really delete deleted rows of `model` and every row hanging off them (children first).

    Set-based: per model one INSERT ... SELECT of "-" history rows, one
    statement per other relation (cascade, set null) and one DELETE. Django's
    Collector would load every object to send the delete signals that history
    listens to, which is far too slow for retention purges of 100,000 rows.
    Rows already gone are skipped, so running a purge again is harmless.
    """
    roots = model.all_objects.filter(pk__in=ids, deleted_at__isnull=False)
    lock_tenant(*roots.values_list("tenant_id", flat=True).distinct())
    tree = collect_cascade(model, list(roots.values_list("pk", flat=True)))
    for target, target_ids in tree.items():
        alive = target.all_objects.filter(pk__in=target_ids, deleted_at__isnull=True).first()
        if alive is not None:
            raise PurgeRefused(_("%(record)s is not in the recycle bin; it would be lost too.") % {"record": alive})
    for target in reversed(cascade_order()):  # children before the rows they point to
        if tree.get(target):
            _hard_delete(target, tree[target], handled=set(tree))
    return {_label(target): len(tree[target]) for target in cascade_order() if tree.get(target)}


def _hard_delete(model, ids, *, handled) -> None:
    write_bulk_history(model, ids, "-", "purged")
    for relation in model._meta.related_objects:
        related, fk = relation.related_model, relation.field
        if related in handled or not fk.concrete or fk.remote_field.on_delete is models.DO_NOTHING:
            continue
        pointing = related._base_manager.filter(**{f"{fk.name}__in": ids})
        on_delete = fk.remote_field.on_delete
        if on_delete is models.CASCADE:
            pointing.delete()
        elif on_delete is models.SET_NULL:
            pointing.update(**{fk.name: None})
        elif pointing.exists():  # PROTECT, RESTRICT, SET_DEFAULT: refuse rather than guess
            raise PurgeRefused(
                _("%(type)s rows still point at these records.") % {"type": related._meta.verbose_name_plural}
            )
    model.all_objects.filter(pk__in=ids)._raw_delete(connection.alias)
