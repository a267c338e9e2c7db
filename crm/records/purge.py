"""Purge: the one real DELETE of records, set-based, children first."""

from __future__ import annotations

from django.db import connection, models, transaction
from django.utils.translation import gettext as _

from crm.history.bulk import write_bulk_history
from crm.records.erasure import erase_history
from crm.records.permissions import end_grants
from crm.records.registry import cascade_order
from crm.records.signals import records_purged
from crm.records.softdelete import Counts, collect_cascade, lock_tenant, type_name
from crm.records.versions import NEXT_VERSION
from crm.tenancy.acting import ActionConflict


class PurgeRefused(ActionConflict):
    """A purge that would take alive rows with it; nothing was changed."""

    code = "purge_refused"


@transaction.atomic
def purge_rows(model, ids) -> Counts:
    """Really delete deleted rows of `model` and every row hanging off them (children first).

    What is left of them is their history rows, with the personal values erased
    (crm.records.erasure); every purge grant on them ends (`Counts.grants_ended`).

    Set-based: per model one INSERT ... SELECT of "-" history rows, one
    statement per other relation (cascade, set null) and one DELETE. Django's
    Collector would load every object to send the delete signals that history
    listens to, which is far too slow for retention purges of 100,000 rows.
    Rows already gone are skipped, so running a purge again is harmless.
    """
    roots = model.all_objects.filter(pk__in=ids, deleted_at__isnull=False)
    tenants = list(roots.values_list("tenant_id", flat=True).distinct())
    lock_tenant(*tenants)
    tree = collect_cascade(model, list(roots.values_list("pk", flat=True)))
    for target, target_ids in tree.items():
        alive = target.all_objects.filter(pk__in=target_ids, deleted_at__isnull=True).first()
        if alive is not None:
            raise PurgeRefused(_("%(record)s is not in the recycle bin; it would be lost too.") % {"record": alive})
    counts = Counts({type_name(target): len(tree[target]) for target in cascade_order() if tree.get(target)})
    for target in reversed(cascade_order()):  # children before the rows they point to
        if tree.get(target):
            counts.grants_ended += _hard_delete(target, tenants, tree[target], handled=set(tree))
    return counts


def _hard_delete(model, tenants, ids, *, handled) -> int:
    """Delete `ids` of `model`; returns how many purge grants ended with them."""
    write_bulk_history(model, ids, "-", "purged")
    erase_history(model, tenants, ids)
    ended = end_grants(model, tenants, ids)
    for relation in model._meta.related_objects:
        related, fk = relation.related_model, relation.field
        if related in handled or not fk.concrete or fk.remote_field.on_delete is models.DO_NOTHING:
            continue
        pointing = related._base_manager.filter(**{f"{fk.name}__in": ids})
        on_delete = fk.remote_field.on_delete
        if on_delete is models.CASCADE:
            pointing.delete()
        elif on_delete is models.SET_NULL:
            bump = {"version": NEXT_VERSION} if any(f.name == "version" for f in related._meta.concrete_fields) else {}
            pointing.update(**{fk.name: None}, **bump)
        elif pointing.exists():  # PROTECT, RESTRICT, SET_DEFAULT: refuse rather than guess
            raise PurgeRefused(
                _("%(type)s rows still point at these records.") % {"type": related._meta.verbose_name_plural}
            )
    model.all_objects.filter(pk__in=ids)._raw_delete(connection.alias)
    records_purged.send(sender=model, tenant_ids=tenants, ids=ids)
    return ended
