"""What every record type is made of: a tenant, the recycle-bin columns and managers,
tenant-first keys and indexes, and the purge permission rows.

The moves themselves (delete into the bin, restore, purge) live in
crm.records.softdelete and crm.records.purge; the rules of who may make them
in crm.recyclebin.actions.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import Permission
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy
from guardian.models import UserObjectPermissionBase

from crm.tenancy.context import current_tenant
from crm.tenancy.models import TenantModel
from crm.tenancy.querysets import TenantQuerySet

ALIVE = Q(deleted_at__isnull=True)


class SoftDeleteQuerySet(TenantQuerySet):
    def alive(self):
        return self.filter(ALIVE)

    def dead(self):
        return self.filter(deleted_at__isnull=False)

    def delete(self):
        """Soft delete: the rows (and their children) go to the bin as one batch."""
        from crm.records.softdelete import soft_delete

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
    tenant_foreign_key and an index on (tenant, content_object)).

    Tenant-owned like the object it grants: guardian's keys are redeclared without their
    single-column indexes, and its unique (user, permission, content_object) starts with
    the tenant. The database primary key is (tenant_id, id) (TenantPrimaryKey).
    """

    tenant = models.ForeignKey(
        "tenancy.Tenant", on_delete=models.CASCADE, related_name="+", editable=False, db_index=False
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, db_index=False)
    permission = models.ForeignKey(Permission, on_delete=models.CASCADE, db_index=False)

    class Meta(UserObjectPermissionBase.Meta):
        abstract = True
        unique_together = ()
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "user", "permission", "content_object"], name="%(app_label)s_%(class)s_uniq"
            )
        ]

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
    # Every write adds one, set-based ones too (F("version") + 1): a change made on what a person
    # saw at an older version is refused rather than silently overwriting (records.actions.update).
    # A database default too: rows written by SQL (bench data, restores of older dumps) start at 1.
    version = models.PositiveIntegerField(gettext_lazy("version"), default=1, db_default=1, editable=False)
    # The version a person's change is made on (an edit form's hidden field, the API's If-Match):
    # records.actions.update refuses the change when the record has moved on. None: not said.
    seen_version: int | None = None

    objects = AliveManager()
    deleted = DeletedManager()
    all_objects = models.Manager.from_queryset(SoftDeleteQuerySet)()

    # Fields whose values must be unique among alive rows (see alive_unique()).
    alive_unique_checks: tuple = ()

    class Meta(TenantModel.Meta):
        abstract = True
        base_manager_name = "all_objects"

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    def delete(self, using=None, keep_parents=False):
        from crm.records.softdelete import soft_delete

        batch = soft_delete(type(self).all_objects.filter(pk=self.pk))
        self.refresh_from_db(fields=["deleted_at", "deleted_by", "deletion_batch"])
        return batch.total, batch.counts


class TenantForeignKey(models.ForeignKey):
    """A foreign key between two tenant-owned models whose joins and fetches carry tenant_id.

    The parent's database key is (tenant_id, id): `JOIN ... ON child.customer_id = customer.id`
    or `customer.id = 5` alone cannot use it. This key adds `customer.tenant_id = child.tenant_id`
    to every join it makes (select_related, filters across the relation) and the child's
    tenant to `child.customer`, so both go through the primary key, and on Citus they stay
    on the tenant's shard. The database schema is a plain ForeignKey's (see deconstruct()).
    """

    def get_extra_descriptor_filter(self, instance):
        return {"tenant_id": instance.tenant_id} if instance.tenant_id is not None else {}

    def get_extra_restriction(self, alias, related_alias):
        if alias is None or related_alias is None:  # a subquery trimmed of its first join
            return None
        parent_tenant = self.remote_field.model._meta.get_field("tenant")
        own_tenant = self.model._meta.get_field("tenant")
        return parent_tenant.get_lookup("exact")(parent_tenant.get_col(alias), own_tenant.get_col(related_alias))

    def deconstruct(self):
        # Migrations see a ForeignKey: the columns and constraints are the same.
        name, _path, args, kwargs = super().deconstruct()
        return name, "django.db.models.ForeignKey", args, kwargs


def tenant_foreign_key(to, **kwargs) -> models.ForeignKey:
    """A foreign key whose database constraint is composite: (tenant_id, <fk>_id) -> (tenant_id, id).

    (tenant_id, id) is the parent's primary key in the database (TenantPrimaryKey); the
    constraint is added by the app's migration (crm.records.migration_ops.AddTenantForeignKey):
    PostgreSQL then refuses a child in another tenant than its parent, and checks the key
    with the child's tenant-first index (a single-column FK would need an index of its own).
    Joins and fetches through it carry tenant_id (TenantForeignKey).
    """
    return TenantForeignKey(to, db_constraint=False, db_index=False, **kwargs)


def soft_delete_indexes(model_name: str) -> list[models.Index]:
    """The recycle bin's indexes: newest deletions first, each batch, and rows by id alone."""
    return [
        models.Index(fields=["tenant", "-deleted_at"], condition=Q(deleted_at__isnull=False), name=f"{model_name}_bin"),
        models.Index(
            fields=["tenant", "deletion_batch"],
            condition=Q(deletion_batch__isnull=False),
            name=f"{model_name}_batch",
        ),
        id_lookup_index(model_name),
    ]


def id_lookup_index(model_name: str) -> models.Index:
    """Transitional: a plain index on `id`, the one index of a record table not led by tenant_id.

    The database key is (tenant_id, id), but Django's save() (UPDATE ... WHERE id = %s),
    refresh_from_db(), foreign key validation and the recycle bin's set-based statements
    (WHERE id IN (...)) still find rows by id alone; without this index each of them
    scans the table. Non-unique, so a Citus distributed table accepts it. It goes once
    those statements carry tenant_id (docs/scaling.md, "Queries that do not carry tenant_id").
    """
    return models.Index(fields=["id"], name=f"{model_name}_id_lookup")


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
