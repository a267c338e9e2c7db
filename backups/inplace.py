"""Restores into the live database: one company's records, or one customer's (levels 2 and 3).

A company restore, in one transaction under the company's recycle-bin lock:

- records in both the backup and the live company: the backup's version (a history row
  "restored from backup #M" for each one that changed; unchanged rows are not written);
- records only in the backup: back, with a history row;
- records only in the live company (created after the backup, or a child added since to a
  record the backup has): never deleted; alive ones go to the recycle bin as ONE batch,
  deleted by the restoring person, with history rows "set aside by restore #N from backup #M"
  and an audit "delete" event naming the restore, so undo, retention and legal hold treat
  them like any deleted record; ones already in the bin stay there as they are;
- history: the backup's rows the live table lacks are added; the live ones are kept.

Access is not restored (see backups.restore_rows). References to users deleted since the
backup become NULL; a NOT NULL one (no restored table has one today) would name the
restoring person, else the company's first admin.
"""

from __future__ import annotations

import uuid

from django.apps import apps
from django.db import connection, transaction
from django.db.models.expressions import RawSQL
from django.utils import timezone

from audit.events import record as audit
from audit.models import AuditEvent
from backups.postgres import BackupError
from backups.restore_rows import SetAside, add_missing, insert, quote, replace, restored_models, set_aside, stage
from crm.history.bulk import write_bulk_history
from crm.records.models import SoftDeleteModel
from crm.records.registry import cascade_order, parent_links, record_type
from crm.records.softdelete import lock_tenant
from crm.tenancy.models import Membership
from crm.tenancy.roles import Role


def fallback_user_id(tenant, user) -> int | None:
    """Who a NOT NULL reference to a deleted user names: the restoring person, else the first admin."""
    if getattr(user, "pk", None):
        return user.pk
    admins = Membership.objects.filter(tenant=tenant, role=Role.ADMIN).order_by("created_at", "pk")
    return admins.values_list("user_id", flat=True).first()


# -- level 2: one company -------------------------------------------------------------


def replace_company(scratch_cursor, tenant, run, user) -> dict:
    """Merge the company's records from the scratch database into the live ones (see the module)."""
    reason = f"restored from backup #{run.backup_id}"
    aside = SetAside(
        batch=uuid.uuid4(),
        deleted_at=timezone.now(),
        deleted_by_id=getattr(user, "pk", None),
        reason=f"set aside by restore #{run.pk} from backup #{run.backup_id}",
    )
    written: dict[str, int] = {}
    with transaction.atomic(), connection.cursor() as live:
        lock_tenant(tenant.pk)
        live.execute("SET CONSTRAINTS ALL DEFERRED")
        fallback = fallback_user_id(tenant, user)
        where = f"tenant_id = {int(tenant.pk)}"
        stages = [stage(scratch_cursor, live, model, where, fallback_user_id=fallback) for model in restored_models()]
        records = [staged for staged in stages if issubclass(staged.model, SoftDeleteModel)]
        for staged in records:  # first: their unique values no longer hold back the backup's rows
            set_aside(live, staged, tenant.pk, aside)
        for staged in stages:
            if staged in records:
                written[staged.table] = replace(live, staged, tenant.pk, reason)
            else:
                written[staged.table] = add_missing(live, staged, tenant.pk)
        if aside.total:
            audit(
                AuditEvent.Action.DELETE,
                tenant=tenant,
                batch=aside.batch,
                count=aside.total,
                detail={"counts": aside.counts, "set_aside_by": {"restore": run.pk, "backup": run.backup_id}},
            )
    return {
        "rows": {staged.table: staged.rows for staged in stages},  # the company's rows in the backup
        "written": written,  # of those, the ones that differed from the live rows or were missing
        "set_aside": {"batch": str(aside.batch), "counts": aside.counts} if aside.total else {},
        "missing_users": sum(staged.users_missing for staged in stages),
    }


# -- level 3: one customer ------------------------------------------------------------


def customer_models(tenant_id: int, customer_id: int) -> list[tuple[type, str]]:
    """(model, SQL condition) of a customer and the records that hang off it, parents first.

    Driven by the registry: a record type comes along when one of its bin parents does
    (a contact's, deal's or ticket's tasks too), with their contents. Shares are access (who may see the
    customer), so they are not restored.
    """
    from customers.models import Customer

    tenant_id, customer_id = int(tenant_id), int(customer_id)
    found = {Customer: f"id = {customer_id} AND tenant_id = {tenant_id}"}
    for model in cascade_order():
        links = [
            f"{quote(model._meta.get_field(fk).column)} IN (SELECT id FROM {quote(parent._meta.db_table)} WHERE {found[parent]})"
            for parent, fk in parent_links(model)
            if parent in found
        ]
        if model not in found and links:
            found[model] = f"tenant_id = {tenant_id} AND ({' OR '.join(links)})"
    for model, where in list(found.items()):  # and their contents (an attachment's bytes)
        for label in record_type(model).contents:
            content = apps.get_model(label)
            key = next(f.column for f in content._meta.concrete_fields if f.related_model is model)
            found[content] = (
                f"{quote(key)} IN (SELECT id FROM {quote(model._meta.db_table)} WHERE {where}) "
                f"AND tenant_id = {tenant_id}"
            )
    return list(found.items())


def customer_conflicts(scratch_cursor, backup, tenant, customer_id) -> list[str]:
    """Why bringing the customer back would clash with live data ([] when it would not)."""
    scratch_cursor.execute(
        "SELECT email FROM customers_customer WHERE id = %s AND tenant_id = %s", [customer_id, tenant.pk]
    )
    found = scratch_cursor.fetchone()
    if found is None:
        raise BackupError(f"Customer {customer_id} of {tenant.slug} is not in backup {backup.pk}.")
    conflicts = []
    with connection.cursor() as live:
        for model, where in customer_models(tenant.pk, customer_id):
            table = quote(model._meta.db_table)
            scratch_cursor.execute(f"SELECT id FROM {table} WHERE {where} ORDER BY id")
            ids = [row[0] for row in scratch_cursor.fetchall()]
            live.execute(f"SELECT id FROM {table} WHERE id = ANY(%s) ORDER BY id", [ids])
            conflicts += [f"{model._meta.db_table} {row[0]} exists in the live database" for row in live.fetchall()]
        if found[0]:
            live.execute(
                "SELECT id FROM customers_customer WHERE tenant_id = %s AND lower(email) = lower(%s) "
                "AND deleted_at IS NULL",
                [tenant.pk, found[0]],
            )
            conflicts += [f"customers_customer {row[0]} already uses the same email" for row in live.fetchall()]
    return conflicts


def insert_customer(scratch_cursor, tenant, customer_id, user) -> dict:
    """Copy the customer and its records from the scratch database, with "+" history rows."""
    copied = {}
    missing_users = 0
    with transaction.atomic(), connection.cursor() as live:
        lock_tenant(tenant.pk)
        fallback = fallback_user_id(tenant, user)
        for model, where in customer_models(tenant.pk, customer_id):
            staged = stage(scratch_cursor, live, model, where, fallback_user_id=fallback)
            copied[model._meta.db_table] = insert(live, staged)
            missing_users += staged.users_missing
            if hasattr(model, "history"):  # contents (an attachment's chunks) have none
                restored = model.all_objects.filter(
                    tenant=tenant, pk__in=RawSQL(f"SELECT id FROM {quote(model._meta.db_table)} WHERE {where}", [])
                )
                write_bulk_history(model, restored, "+", "restored from backup")
    return {"rows": copied, "missing_users": missing_users}
