"""Erasure at a person's request (PIPL art. 47, GDPR art. 17), and the ledger that keeps it erased.

`erase` takes a customer or contact (live or in the bin) with everything that hangs
off it out of the database at once, bypassing the bin's retention: the same purge
as the recycle bin's (crm.records.purge), so the history rows stay without their
personal values and every purge grant ends. One audit event (ERASED) and one ledger
row per erased record, in the same transaction. Legal hold refuses it (409).

`apply_ledger` erases again whatever a restore brought back of the ledger's records.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext as _

from audit.events import record as audit
from audit.models import AuditEvent
from crm.records.actions import IDS_IN_EVENT
from crm.records.erasure import erase_history
from crm.records.models import ALIVE
from crm.records.purge import purge_rows
from crm.records.registry import record_models, record_type
from crm.records.softdelete import Counts, collect_cascade, lock_tenant, soft_delete, type_name
from crm.recyclebin.chunks import hold_is_on
from crm.tenancy.acting import ActionConflict, action, member_role
from crm.tenancy.context import current_tenant
from crm.tenancy.roles import Role
from privacy.models import Erasure
from privacy.subject_access import personal_data_zip


class OnLegalHold(ActionConflict):
    code = "legal_hold"


def erasable_model(type_name_: str):
    """The model of an erasable record type (Http404 for any other name)."""
    entry = record_type(type_name_)
    if entry is None or not entry.erasable:
        raise Http404(_("Unknown record type."))
    return entry.model


def check_not_on_hold() -> None:
    """Refuse (409) while the company is on legal hold, before anything is shown or asked."""
    if current_tenant().legal_hold:
        raise _on_hold()


def preview(model, pk) -> dict[str, int]:
    """What erasing record `pk` takes away, per type: the record and everything hanging off it."""
    return {type_name(target): len(ids) for target, ids in collect_cascade(model, [pk]).items()}


def _check(model, pk, acting_user):
    """The record to erase, after the right (403) and the hold (409); refusals are recorded."""
    if acting_user is not None and member_role(acting_user) != Role.ADMIN:
        audit(AuditEvent.Action.REFUSED, object_type=type_name(model), object_id=pk, detail={"attempted": "erase"})
        raise PermissionDenied(_("Only administrators may erase a person's data."))
    record = model.all_objects.filter(tenant=current_tenant(), pk=pk).first()
    if record is None:
        raise Http404(_("That record does not exist or has been erased already."))
    if current_tenant().legal_hold:
        detail = {"attempted": "erase", "reason": "legal_hold"}
        audit(AuditEvent.Action.REFUSED, object_type=type_name(model), object_id=pk, detail=detail)
        raise _on_hold()
    return record


def _on_hold() -> OnLegalHold:
    return OnLegalHold(_("This company is on legal hold: nothing may be erased until the hold is lifted."))


@action
def erase(model, pk, *, acting_user) -> AuditEvent:
    """Erase one record and everything hanging off it, now; returns the ERASED audit event."""
    _check(model, pk, acting_user)
    tenant_id = current_tenant().pk
    with transaction.atomic():
        lock_tenant(tenant_id)
        if hold_is_on(tenant_id):
            raise _on_hold()
        rows = model.all_objects.filter(tenant_id=tenant_id, pk=pk)
        if not rows.exists():
            raise Http404(_("That record does not exist or has been erased already."))
        soft_delete(rows.filter(ALIVE))
        tree = collect_cascade(model, [pk])
        counts = purge_rows(model, [pk])
        event = audit(
            AuditEvent.Action.ERASED,
            object_type=type_name(model),
            object_id=pk,
            count=sum(counts.values()),
            detail={
                "counts": dict(counts),
                "ids": {type_name(target): ids[:IDS_IN_EVENT] for target, ids in tree.items()},
                "grants_ended": counts.grants_ended,
            },
        )
        Erasure.objects.bulk_create(
            Erasure(
                tenant_id=tenant_id,
                record_type=type_name(target),
                record_id=record_id,
                erased_at=event.created_at,
                erased_by=event.actor,
                event_id=event.pk,
                event_hash=event.hash,
            )
            for target, ids in tree.items()
            for record_id in ids
        )
    return event


@action
def apply_ledger(tenant, *, run_id=None, acting_user) -> dict:
    """Erase again what a restore brought back of the company's erased records (rows, and values
    in history rows). One ERASED event when something was erased again; none otherwise."""
    ledger: dict[str, list[int]] = {}
    for name, record_id in Erasure.all_objects.filter(tenant=tenant).values_list("record_type", "record_id"):
        ledger.setdefault(name, []).append(record_id)
    counts, history_rows = Counts(), 0
    with transaction.atomic():
        lock_tenant(tenant.pk)
        for name, model in record_models().items():  # parents first: their children go with them
            ids = ledger.get(name)
            if not ids:
                continue
            present = model.all_objects.filter(tenant=tenant, pk__in=ids)
            soft_delete(present.filter(ALIVE))
            back = list(present.values_list("pk", flat=True))
            for purged, count in (purge_rows(model, back) if back else {}).items():
                counts[purged] = counts.get(purged, 0) + count
            history_rows += erase_history(model, [tenant.pk], ids)
        if counts or history_rows:
            detail = {"reapplied": True, "counts": dict(counts), "history_rows": history_rows, "restore_run": run_id}
            audit(AuditEvent.Action.ERASED, tenant=tenant, count=sum(counts.values()), detail=detail)
    return {"counts": dict(counts), "history_rows": history_rows}


@action
def export_personal_data(model, pk, *, acting_user) -> bytes:
    """Everything held about one customer or contact (privacy.subject_access), as a ZIP; recorded (EXPORT).

    Administrators only; a record of another company, or one erased already, is a 404.
    """
    if acting_user is not None and member_role(acting_user) != Role.ADMIN:
        raise PermissionDenied(_("Only administrators may export a person's data."))
    tenant = current_tenant()
    record = model.all_objects.filter(tenant=tenant, pk=pk).first()
    if record is None:
        raise Http404(_("That record does not exist or has been erased."))
    username = acting_user.get_username() if acting_user is not None else "system"
    data, counts = personal_data_zip(model, pk, tenant, exported_by=username)
    audit(
        AuditEvent.Action.EXPORT,
        object_type=type_name(model),
        object_id=pk,
        count=sum(counts.values()),
        detail={"what": "personal_data", "counts": counts},
    )
    return data
