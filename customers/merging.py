"""Merging customers (or contacts) into one, and undoing it exactly.

A merge, in one transaction under the company's recycle-bin lock:
1. the alive children of the merged records move to the survivor: every registered record
   type with a foreign key to the merged type (contacts, interactions, opportunities, tickets,
   tasks, attachments of a customer; interactions, tasks, attachments of a contact), one
   UPDATE per model and former parent, each row's version bumped and a history row written;
2. the survivor gains the merged customers' shares it lacks;
3. the merged records go to the recycle bin as one batch;
4. the survivor takes the chosen values (validated as any edit), with a history row.
The `Merge` row records what each step changed; the caller (customers.actions) writes the audit
event. Undo checks nothing changed since and reverses the steps in the other order.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from crm.history.bulk import write_bulk_history
from crm.records import softdelete
from crm.records.models import ALIVE
from crm.records.registry import record_models
from crm.records.versions import NEXT_VERSION
from crm.tenancy.acting import ActionConflict
from customers.merges import Merge
from customers.models import Contact, Customer, CustomerShare

# The fields whose value a merge chooses, per record type: what a person enters.
MERGE_FIELDS = {"customer": Customer.ENTERED_FIELDS, "contact": Contact.ENTERED_FIELDS}
MERGEABLE = {"customer": Customer, "contact": Contact}
MAX_MERGED = 20


class MergeConflict(ActionConflict):
    """An undo refused: `problems` lists what changed since the merge."""

    code = "merge_conflict"

    def __init__(self, message, problems=()):
        super().__init__(message)
        self.problems = list(problems)


def child_links(model) -> list[tuple[type, str]]:
    """(child model, foreign key) of every registered record type pointing at `model`."""
    links = []
    for child in record_models().values():
        for field in child._meta.concrete_fields:
            if isinstance(field, models.ForeignKey) and field.related_model is model and child is not model:
                links.append((child, field.name))
    return links


def validate_selection(model, survivor, others, choices: dict) -> dict:
    """{field: source record} after checking the records and the choices; ValidationError otherwise."""
    name = model._meta.model_name
    if not others:
        raise ValidationError(_("Pick at least one other record to merge into the surviving one."))
    if len(others) > MAX_MERGED:
        raise ValidationError(_("Merge at most %(count)s records at once.") % {"count": MAX_MERGED})
    if any(other.pk == survivor.pk for other in others):
        raise ValidationError(_("The surviving record cannot also be merged away."))
    if name == "contact" and any(other.customer_id != survivor.customer_id for other in others):
        raise ValidationError(_("Only contacts of the same customer can be merged."))
    by_id = {record.pk: record for record in (survivor, *others)}
    sources = {}
    for field, source_id in (choices or {}).items():
        if field not in MERGE_FIELDS[name]:
            raise ValidationError({field: _("This field cannot be chosen in a merge.")})
        try:
            sources[field] = by_id[int(source_id)]
        except (KeyError, TypeError, ValueError):
            raise ValidationError({field: _("Choose the value of one of the records being merged.")}) from None
    return sources


def perform(model, survivor, others, sources: dict, *, tenant, user) -> Merge:
    """The merge itself (inside the caller's transaction); returns the saved Merge row.

    The company's bin lock first (as deletes and restores take it), then the records, locked in id
    order and read again: the values chosen are those of the records as they are now."""
    softdelete.lock_tenant(tenant.pk)
    ids = sorted(other.pk for other in others)
    fresh = model.objects.select_for_update(of=("self",)).filter(pk__in=[survivor.pk, *ids]).order_by("pk")
    fresh = {record.pk: record for record in fresh}
    if len(fresh) != len(ids) + 1:
        raise ActionConflict(_("A record of the merge was deleted meanwhile; nothing was merged."))
    survivor = fresh[survivor.pk]
    sources = {field: fresh[source.pk] for field, source in sources.items()}
    moves = []
    for child, fk_name in child_links(model):
        rows = child.all_objects.filter(ALIVE, tenant=tenant, **{f"{fk_name}__in": ids})
        by_parent: dict[int, list[int]] = {}
        for pk, parent in rows.order_by("pk").values_list("pk", f"{fk_name}_id"):
            by_parent.setdefault(parent, []).append(pk)
        moved = [pk for pks in by_parent.values() for pk in pks]
        if not moved:
            continue
        child.all_objects.filter(pk__in=moved).update(**{fk_name: survivor.pk}, version=NEXT_VERSION)
        write_bulk_history(child, moved, "~", "merged")
        moves += [
            {"model": child._meta.label_lower, "field": fk_name, "from": parent, "ids": pks}
            for parent, pks in by_parent.items()
        ]
    added_shares = _add_shares(survivor, ids, tenant) if model is Customer else []
    batch = softdelete.soft_delete(model.all_objects.filter(tenant=tenant, pk__in=ids))
    before = _take_values(model, survivor, sources)
    return Merge.objects.create(
        tenant=tenant,
        record_type=model._meta.model_name,
        survivor_id=survivor.pk,
        merged_ids=ids,
        batch=batch.id,
        choices={field: source.pk for field, source in sources.items()},
        before=before,
        version_after=survivor.version,
        moves=moves,
        added_shares=added_shares,
        created_by=user if getattr(user, "pk", None) else None,
    )


def _add_shares(survivor, ids, tenant) -> list[int]:
    """The merged customers' shares, now also on the survivor (not with its owner, nor twice)."""
    users = set(CustomerShare.all_objects.filter(tenant=tenant, customer_id__in=ids).values_list("user_id", flat=True))
    users -= set(CustomerShare.all_objects.filter(customer=survivor).values_list("user_id", flat=True))
    users.discard(survivor.owner_id)
    created = [
        CustomerShare.all_objects.create(tenant=tenant, customer=survivor, user_id=user_id) for user_id in sorted(users)
    ]
    return [share.pk for share in created]


def _take_values(model, survivor, sources: dict) -> dict:
    """Give the survivor the chosen values (validated as an edit).

    Returns {"fields": [attnames changed], "history_id": the survivor's history row as it was}:
    undo reads the former values from that row, so the ledger holds no personal values and a
    purge's erasure of the history (crm.records.erasure) reaches them too."""
    changed = []
    for field_name, source in sources.items():
        attname = model._meta.get_field(field_name).attname
        if getattr(source, attname) != getattr(survivor, attname):
            changed.append(attname)
            setattr(survivor, attname, getattr(source, attname))
    history = model.history.model.objects.filter(tenant_id=survivor.tenant_id, id=survivor.pk)
    last = history.order_by("-history_id").values("history_id", "version").first()
    if last is None or last["version"] != survivor.version:  # no row of the current version yet
        write_bulk_history(model, [survivor.pk], "~", "merged")
        last = history.order_by("-history_id").values("history_id", "version").first()
    if changed:
        survivor.full_clean()
        values = {attname: getattr(survivor, attname) for attname in changed}
        if any(field.name == "updated_at" for field in model._meta.concrete_fields):
            survivor.updated_at = values["updated_at"] = timezone.now()
        model.all_objects.filter(pk=survivor.pk).update(**values, version=NEXT_VERSION)
    else:
        model.all_objects.filter(pk=survivor.pk).update(version=NEXT_VERSION)
    survivor.version += 1
    write_bulk_history(model, [survivor.pk], "~", "merged")
    return {"fields": changed, "history_id": last["history_id"]}


# -- undo ----------------------------------------------------------------------------------------------


def problems(merge: Merge) -> list[str]:
    """What changed since the merge and keeps it from being undone exactly (empty: it can be)."""
    model = MERGEABLE[merge.record_type]
    found = []
    survivor = model.all_objects.filter(pk=merge.survivor_id).first()
    if survivor is None or survivor.deleted_at is not None:
        found.append(_("The surviving record is deleted."))
    elif survivor.version != merge.version_after:
        found.append(_("“%(name)s” was changed after the merge.") % {"name": survivor})
    in_batch = set(
        model.all_objects.filter(
            pk__in=merge.merged_ids, deletion_batch=merge.batch, deleted_at__isnull=False
        ).values_list("pk", flat=True)
    )
    for pk in merge.merged_ids:
        if pk not in in_batch:
            found.append(_("#%(id)s is no longer in the recycle bin as the merge left it.") % {"id": pk})
    for move in merge.moves:
        child = record_models()[move["model"].split(".")[1]]
        stayed = child.all_objects.filter(ALIVE, pk__in=move["ids"], **{move["field"]: merge.survivor_id})
        gone = set(move["ids"]) - set(stayed.values_list("pk", flat=True))
        for record in child.all_objects.filter(pk__in=sorted(gone))[:20]:
            found.append(
                _("%(type)s “%(name)s” was moved or deleted after the merge.")
                % {"type": child._meta.verbose_name, "name": record}
            )
        if len(gone) > 20:
            found.append(
                ngettext("… and %(count)d more record.", "… and %(count)d more records.", len(gone) - 20)
                % {"count": len(gone) - 20}
            )
    return found


def undo(merge: Merge, *, tenant, user) -> None:
    """Put everything back (inside the caller's transaction); MergeConflict when it cannot be exact."""
    softdelete.lock_tenant(tenant.pk)
    merge = Merge.objects.select_for_update().get(pk=merge.pk)
    if merge.undone_at is not None:
        raise MergeConflict(_("This merge was already undone."))
    found = problems(merge)
    if found:
        raise MergeConflict(
            _("The merge cannot be undone exactly: %(problems)s") % {"problems": " ".join(found)}, found
        )
    model = MERGEABLE[merge.record_type]
    survivor_rows = model.all_objects.filter(pk=merge.survivor_id, version=merge.version_after)
    fields = merge.before.get("fields", [])
    if fields:
        former = model.history.model.objects.filter(
            tenant_id=merge.tenant_id, history_id=merge.before["history_id"]
        ).values(*fields)[0]
        survivor_rows.update(**former, version=NEXT_VERSION)
    else:
        survivor_rows.update(version=NEXT_VERSION)
    write_bulk_history(model, [merge.survivor_id], "~", "merge undone")
    for move in merge.moves:
        child = record_models()[move["model"].split(".")[1]]
        child.all_objects.filter(pk__in=move["ids"]).update(**{move["field"]: move["from"]}, version=NEXT_VERSION)
        write_bulk_history(child, move["ids"], "~", "merge undone")
    for share in CustomerShare.all_objects.filter(pk__in=merge.added_shares):
        share.delete()  # one by one: simple-history records each removal
    softdelete.restore_batch(tenant, merge.batch)
    merge.undone_at = timezone.now()
    merge.undone_by = user if getattr(user, "pk", None) else None
    merge.save(update_fields=["undone_at", "undone_by"])
