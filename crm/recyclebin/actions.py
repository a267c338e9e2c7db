"""Recycle-bin actions: delete, undo, restore, purge, purge grants, emptying, retention.

The one place where views, the API and tasks learn who may do what to
deleted records; the mechanics live in crm.records.softdelete and
crm.records.purge. Permission checks run before the transaction opens, so
that the audit event of a refusal is committed although the action raises.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.events import record as audit
from audit.models import AuditEvent
from crm.approvals.gate import gate
from crm.approvals.models import ApprovalRequest
from crm.records import softdelete
from crm.records.actions import IDS_IN_EVENT
from crm.records.permissions import purge_permission, purgeable
from crm.records.registry import record_types
from crm.recyclebin import chunks
from crm.tenancy.acting import action, member_role, require_role
from crm.tenancy.context import current_tenant
from crm.tenancy.models import Membership
from crm.tenancy.querysets import membership_for
from crm.tenancy.roles import Role


class NotInBin(Http404):
    """The record is not in this tenant's recycle bin (never was, restored, or purged)."""


def model_for(type_name: str):
    entry = record_types().get(type_name)
    if entry is None:
        raise NotInBin(_("Unknown record type: %(type)s") % {"type": type_name[:30]})
    return entry.model


@dataclass(frozen=True)
class Item:
    model: type
    pk: int


def by_model(items: list[Item]) -> dict[type, list[int]]:
    grouped: dict[type, list[int]] = defaultdict(list)
    for item in items:
        grouped[item.model].append(item.pk)
    return grouped


def _audit(event_action, model, ids, *, batch=None, counts=None, **detail):
    ids = sorted(ids)
    audit(
        event_action,
        object_type=model._meta.model_name,
        object_id=ids[0] if len(ids) == 1 else "",
        batch=batch,
        count=sum(counts.values()) if counts else len(ids),
        detail={"ids": ids[:IDS_IN_EVENT], "counts": counts or {}, **detail},
    )


def refuse(message, attempted: str, model, ids) -> PermissionDenied:
    """Record a refused destructive attempt (outside any rolled-back transaction) and return the error."""
    _audit(AuditEvent.Action.REFUSED, model, ids, attempted=attempted)
    return PermissionDenied(message)


# -- deleting --------------------------------------------------------------------


def _deletable(user, queryset):
    model = queryset.model
    wanted = set(queryset.values_list("pk", flat=True))
    allowed = model.objects.all() if user is None else model.objects.for_user(user, "delete")
    allowed = allowed.filter(pk__in=wanted)
    if len(wanted) != allowed.count():
        raise refuse(_("You may not delete some of these records."), "delete", model, wanted)
    return allowed


def preview_delete(queryset, user) -> dict[str, int]:
    """What deleting `queryset` would move to the bin (PermissionDenied when `user` may not)."""
    return softdelete.preview_delete(_deletable(user, queryset))


def approved_by(approval) -> dict:
    """The audit detail naming both people of an approved deletion (nothing without approval)."""
    if approval is None:
        return {}
    return {"approval": approval.pk, "requested_by": approval.requested_by_id, "approved_by": approval.decided_by_id}


@action
def delete(queryset, *, acting_user, reason="", approval=None) -> softdelete.Batch:
    """Soft-delete `queryset` with its children, as one batch; all or nothing.

    Above the company's approval threshold this only asks (ApprovalRequested); `approval`
    is an approved request being run (crm.approvals.actions.approve)."""
    allowed = _deletable(acting_user, queryset)
    model = queryset.model

    def selection():
        ids = sorted(allowed.values_list("pk", flat=True))
        return len(ids), [f"{model._meta.model_name}:{pk}" for pk in ids]

    kind, name = ApprovalRequest.Kind.BULK_DELETE, model._meta.model_name
    gate(kind, acting_user=acting_user, selection=selection, record_type=name, reason=reason, approval=approval)
    with transaction.atomic():
        ids = list(allowed.values_list("pk", flat=True))
        batch = softdelete.soft_delete(allowed)
        _audit(AuditEvent.Action.DELETE, model, ids, batch=batch.id, counts=batch.counts, **approved_by(approval))
    return batch


# -- restoring -------------------------------------------------------------------


def check_in_bin(items: list[Item], user, right: str) -> dict[type, list[int]]:
    """{model: ids} after checking every item is in the user's bin (404) and that `right`
    ("restore" or "purge") is allowed on it (403, recorded).

    A record in the bin that the user may not see there (a colleague's, for a rep) is answered
    exactly like one that does not exist, so that ids cannot be probed; the attempt is recorded."""
    grouped = by_model(items)
    membership = membership_for(user) if user is not None else None
    for model, ids in grouped.items():
        in_bin = model.deleted.all()
        visible = in_bin if user is None else model.deleted.for_user(user, "restore" if right == "restore" else "view")
        present = set(visible.filter(pk__in=ids).values_list("pk", flat=True))
        missing = set(ids) - present
        if missing:
            if in_bin.filter(pk__in=missing).exists():
                _audit(AuditEvent.Action.REFUSED, model, ids, attempted=right)
            raise NotInBin(
                _("%(type)s %(id)s is not in the recycle bin.") % {"type": model._meta.verbose_name, "id": min(missing)}
            )
        if user is None or right == "restore":
            continue
        allowed = purgeable(membership, model.deleted.filter(pk__in=ids))
        if allowed.count() != len(present):
            raise refuse(_("You may not permanently delete some of these records."), right, model, ids)
    return grouped


def _count(tree: dict[type, set[int]]) -> dict[str, int]:
    return {model._meta.model_name: len(ids) for model, ids in tree.items() if ids}


def preview_restore(items: list[Item]) -> dict[str, int]:
    """How many rows restoring `items` brings back: each with its children deleted in the same batch."""
    rows: dict[type, set[int]] = defaultdict(set)
    for model, ids in by_model(items).items():
        same_batch = Q(
            deleted_at__isnull=False, deletion_batch__in=model.deleted.filter(pk__in=ids).values("deletion_batch")
        )
        for target, target_ids in softdelete.collect_cascade(model, ids, state=same_batch).items():
            rows[target] |= set(target_ids)
    return _count(rows)


def preview_purge(items: list[Item]) -> dict[str, int]:
    """What purging `items` deletes for good: the records and everything hanging off them."""
    rows: dict[type, set[int]] = defaultdict(set)
    for model, ids in by_model(items).items():
        for target, target_ids in softdelete.collect_cascade(model, ids).items():
            rows[target] |= set(target_ids)
    return _count(rows)


def _nothing_left() -> NotInBin:
    return NotInBin(_("Those records are no longer in the recycle bin: someone restored or purged them meanwhile."))


@action
def restore(items: list[Item], *, acting_user) -> dict[str, int]:
    """Restore these records, each with the children deleted together with it.

    One event for the whole restore, with exact counts; none, and a 404, when another
    restore or a purge got there first.
    """
    selection = check_in_bin(items, acting_user, "restore")
    tenant_id = current_tenant().pk
    with transaction.atomic():
        softdelete.lock_tenant(tenant_id)
        still = {model: chunks.in_bin(model, tenant_id, ids) for model, ids in selection.items()}
        present = {model: ids for model, ids in still.items() if ids}
        counts = softdelete.restore_selection(present) if present else {}
        if not counts:
            raise _nothing_left()
        if len(present) == 1:
            [(model, ids)] = present.items()
            _audit(AuditEvent.Action.RESTORE, model, ids, counts=dict(counts), **chunks.ended(counts))
        else:
            ids_by_type = {model._meta.model_name: ids[:IDS_IN_EVENT] for model, ids in present.items()}
            detail = {"ids": ids_by_type, "counts": dict(counts), **chunks.ended(counts)}
            audit(AuditEvent.Action.RESTORE, count=sum(counts.values()), detail=detail)
    return counts


def batch_items(batch_id) -> list[Item]:
    tenant = current_tenant()
    return [
        Item(entry.model, pk)
        for entry in record_types().values()
        for pk in entry.model.all_objects.filter(tenant=tenant, deletion_batch=batch_id, deleted_at__isnull=False)
        .order_by("pk")
        .values_list("pk", flat=True)
    ]


@action
def restore_batch(batch_id, *, acting_user) -> dict[str, int]:
    """Undo: restore exactly the rows deleted in one batch."""
    items = batch_items(batch_id)
    if not items:
        raise NotInBin(_("Nothing from that deletion is left in the recycle bin."))
    check_in_bin(items, acting_user, "restore")
    with transaction.atomic():
        counts = softdelete.restore_batch(current_tenant(), batch_id)
        if not counts:
            raise _nothing_left()
        detail = {"counts": dict(counts), **chunks.ended(counts)}
        audit(AuditEvent.Action.RESTORE, batch=batch_id, count=sum(counts.values()), detail=detail)
    return counts


# -- purging ---------------------------------------------------------------------


def check_not_on_hold(attempted: str = "purge") -> None:
    """Nothing is purged by hand while the company is on legal hold (a refusal is recorded)."""
    if current_tenant().legal_hold:
        audit(AuditEvent.Action.REFUSED, detail={"attempted": attempted, "reason": "legal_hold"})
        raise PermissionDenied(_("This company is on legal hold: nothing may be permanently deleted."))


def _on_hold(attempted: str) -> PermissionDenied:
    chunks.record_stopped_by_hold(current_tenant().pk, attempted)
    return PermissionDenied(_("This company is on legal hold: nothing may be permanently deleted."))


@action
def purge(items: list[Item], *, acting_user, reason="", approval=None) -> dict[str, int]:
    """Permanently delete these records and what hangs off them (per-object permission).

    All or nothing, under the company's lock: one event per type for what was really
    purged; none, and a 404, when another purge or a restore got there first. With the
    company's approval setting on, this only asks (ApprovalRequested) unless `approval`.
    """
    selection = check_in_bin(items, acting_user, "purge")
    check_not_on_hold()
    keys = [f"{item.model._meta.model_name}:{item.pk}" for item in items]
    kind = ApprovalRequest.Kind.PURGE
    gate(kind, acting_user=acting_user, selection=lambda: (len(keys), keys), reason=reason, approval=approval)
    tenant_id = current_tenant().pk
    counts: dict[str, int] = defaultdict(int)
    try:
        with transaction.atomic():
            for model, ids in selection.items():
                event = AuditEvent.Action.PURGE
                for name, count in chunks.purge_chunk(
                    model, tenant_id, ids, event=event, **approved_by(approval)
                ).items():
                    counts[name] += count
            if not counts:
                raise _nothing_left()
    except chunks.HoldCameOn:
        raise _on_hold("purge") from None
    return dict(counts)


def _require_admin(user, message, attempted, record) -> None:
    if user is not None and member_role(user) != Role.ADMIN:
        raise refuse(message, attempted, type(record), [record.pk])


@action
def grant_purge(member, record, *, acting_user) -> None:
    """An admin lets a manager purge one record."""
    _require_admin(acting_user, _("Only admins may grant permanent delete."), "grant_purge", record)
    if not Membership.objects.filter(tenant=current_tenant(), user=member, role=Role.MANAGER).exists():
        raise PermissionDenied(_("Permanent delete can be granted to managers of this company only."))
    _change_purge_grant(member, record, grant=True)


@action
def revoke_purge(member, record, *, acting_user) -> None:
    _require_admin(acting_user, _("Only admins may revoke permanent delete."), "revoke_purge", record)
    _change_purge_grant(member, record, grant=False)


def _change_purge_grant(member, record, *, grant: bool):
    from guardian.shortcuts import assign_perm, remove_perm

    permission = purge_permission(type(record))
    with transaction.atomic():
        (assign_perm if grant else remove_perm)(permission, member, record)
        audit(
            AuditEvent.Action.PERMISSION_GRANT if grant else AuditEvent.Action.PERMISSION_REVOKE,
            target=record,
            detail={"permission": permission, "user_id": member.pk},
        )


def purgeable_now(user, model):
    """The rows of `model` in the bin `user` may purge (None, the system: all of them)."""
    return model.deleted.all() if user is None else purgeable(membership_for(user), model.deleted.all())


@action
def empty_bin(*, acting_user, reason="", approval=None) -> dict[str, int]:
    """Purge everything in the company's bin the acting user may purge (admins: everything)."""
    require_role(acting_user, {Role.ADMIN}, _("Only administrators may empty the recycle bin."))
    check_not_on_hold("empty_bin")

    def selection():
        return sum(purgeable_now(acting_user, entry.model).count() for entry in record_types().values()), []

    kind = ApprovalRequest.Kind.EMPTY_BIN
    gate(kind, acting_user=acting_user, selection=selection, reason=reason, approval=approval)
    tenant_id = current_tenant().pk
    counts: dict[str, int] = defaultdict(int)
    try:
        for entry in record_types().values():
            while True:
                query = purgeable_now(acting_user, entry.model).order_by("pk").values_list("pk", flat=True)
                ids = list(query[: chunks.CHUNK])
                if not ids:
                    break
                purged = chunks.purge_chunk(
                    entry.model, tenant_id, ids, event=AuditEvent.Action.PURGE, empty_bin=True, **approved_by(approval)
                )
                for name, count in purged.items():
                    counts[name] += count
    except chunks.HoldCameOn:
        raise _on_hold("empty_bin") from None
    return dict(counts)


def purge_expired(tenant, now=None, chunk=chunks.CHUNK) -> dict[str, int] | None:
    """Purge the company's bin items older than its retention period, chunk by chunk (a system task).

    Each chunk is its own transaction under the company's lock, so a worker that dies
    half-way leaves a consistent state and the next run carries on where it stopped,
    purging nothing twice. Legal hold, also switched on mid-run, stops it before the
    next chunk: None then (what was purged before is in the audit log).
    """
    if tenant.legal_hold:
        return None
    cutoff = (now or timezone.now()) - timedelta(days=tenant.retention_days)
    counts: dict[str, int] = defaultdict(int)
    try:
        for entry in record_types().values():  # parents first: children go with them
            expired = entry.model.all_objects.filter(tenant=tenant, deleted_at__lt=cutoff).order_by("pk")
            last = 0
            while True:
                ids = list(expired.filter(pk__gt=last).values_list("pk", flat=True)[:chunk])
                if not ids:
                    break
                purged = chunks.purge_chunk(entry.model, tenant.pk, ids, event=AuditEvent.Action.RETENTION_PURGE)
                for name, count in purged.items():
                    counts[name] += count
                last = ids[-1]
    except chunks.HoldCameOn:
        chunks.record_stopped_by_hold(tenant.pk, "retention_purge")
        return None
    return dict(counts)


def purge_after(tenant, deleted_at):
    """When retention purges an item (None while the company is on legal hold)."""
    return None if tenant.legal_hold else deleted_at + timedelta(days=tenant.retention_days)
