"""Chain heads kept outside the tables they vouch for, and the check of a chain against them.

A head is a chain's last event: its seq, id, hash and time. The hash chain proves that no
event *inside* a chain changed, but not that none is missing from its end, nor that a whole
chain is gone: an attacker who can write SQL deletes the newest events (or a company's
every event) and leaves a valid, shorter chain. So the heads are written down elsewhere:

- in every backup's manifest (`"audit_heads"`, backups.dump), the JSON file next to the dump
  and the Backup row;
- nightly (audit.tasks.checkpoint_chain_heads): a row per chain whose head moved in
  audit_chainhead, append-only, and HEADS_FILE next to the backups, replaced atomically.

The nightly checkpoint first checks each chain against the heads already recorded and does
not move the head of a chain that fails: a truncated chain keeps failing until someone looks.
A chain is named by its key: the tenant's id as text, or "system".
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db.models import Max, Min
from django.utils import timezone

from audit.events import chain_events
from audit.models import Action, AuditEvent, ChainHead, SystemEvent
from crm.tenancy.models import Tenant

HEADS_FILE = "audit-heads.json"
MANIFEST_KEY = "audit_heads"  # the key of the heads in a manifest and in HEADS_FILE
SYSTEM = "system"


def chain_key(tenant_id) -> str:
    return SYSTEM if tenant_id is None else str(tenant_id)


def chain_of(key: str):
    """The tenant id a key names (None: the system chain)."""
    return None if key == SYSTEM else int(key)


def describe(key: str) -> str:
    if key == SYSTEM:
        return "the system chain"
    slug = Tenant.objects.filter(pk=chain_of(key)).values_list("slug", flat=True).first()
    return f"chain of tenant {slug}" if slug else f"chain of tenant {key} (no such tenant)"


def _head(event: dict) -> dict:
    return {
        "seq": event["seq"],
        "id": event["id"],
        "hash": event["hash"],
        "created_at": event["created_at"].isoformat(),
    }


def chain_heads() -> dict[str, dict]:
    """{chain key: {"seq", "id", "hash", "created_at"}} of every chain that has events.

    One index lookup per tenant (the last seq of each, through the (tenant_id, seq) key),
    not a scan of the events; JSON-ready (text keys and times).
    """
    fields = ("seq", "id", "hash", "created_at")
    heads = {}
    for tenant_id in Tenant.objects.order_by("pk").values_list("pk", flat=True).iterator():
        last = AuditEvent.objects.filter(tenant_id=tenant_id).order_by("-seq").values(*fields).first()
        if last:
            heads[chain_key(tenant_id)] = _head(last)
    last = SystemEvent.objects.order_by("-seq").values(*fields).first()
    if last:
        heads[SYSTEM] = _head(last)
    return heads


# -- the heads recorded so far ------------------------------------------------------------


@dataclass(frozen=True)
class RecordedHead:
    seq: int
    hash: str
    created_at: datetime | None  # the event's time (None: not recorded)
    source: str  # where it was recorded, for the report


@dataclass
class Recorded:
    heads: dict[str, list[RecordedHead]]  # by chain key
    unreadable: list[str]  # one line per place that could not be read

    def of(self, key: str) -> list[RecordedHead]:
        return self.heads.get(key, [])


def heads_dir() -> Path:
    return Path(settings.BACKUP_DIR)


def recorded_heads() -> Recorded:
    """Every head in the JSON files next to the backups (the nightly HEADS_FILE and each backup's
    manifest), then the newest head of each chain in audit_chainhead."""
    recorded = Recorded({}, [])
    directory = heads_dir()
    for path in sorted(directory.glob("*.json")) if directory.is_dir() else ():
        try:
            heads = read_heads_file(path)
        except (OSError, ValueError, KeyError, TypeError) as error:
            recorded.unreadable.append(f"cannot read the chain heads in {path.name}: {error}")
            continue
        for key, head in (heads or {}).items():
            recorded.heads.setdefault(key, []).append(
                RecordedHead(head["seq"], head["hash"], _parse(head.get("created_at")), path.name)
            )
    newest = ChainHead.objects.order_by("chain", "-seq").distinct("chain")
    for row in newest:
        source = f"audit_chainhead ({timezone.localtime(row.recorded_at):%Y-%m-%d %H:%M})"
        recorded.heads.setdefault(row.chain, []).append(RecordedHead(row.seq, row.hash, row.event_at, source))
    return recorded


def read_heads_file(path: Path) -> dict[str, dict] | None:
    """{key: head} from a manifest or HEADS_FILE, checked for shape; None for JSON without heads."""
    content = json.loads(path.read_text())
    if not isinstance(content, dict) or MANIFEST_KEY not in content:
        return None
    heads = content[MANIFEST_KEY]
    if not isinstance(heads, dict):
        raise ValueError(f"{MANIFEST_KEY} is not an object")
    for key, head in heads.items():
        chain_of(key)  # a ValueError for a key that names no chain
        if not (isinstance(head["seq"], int) and isinstance(head["hash"], str)):
            raise ValueError(f"a head of {key} is not a seq and a hash")
        _parse(head.get("created_at"))
    return heads


def _parse(value) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def write_heads_file(heads: dict[str, dict]) -> Path:
    """Replace HEADS_FILE atomically: a temporary name, fsync, rename, fsync the directory."""
    directory = heads_dir()
    directory.mkdir(parents=True, exist_ok=True)
    final, partial = directory / HEADS_FILE, directory / f".{HEADS_FILE}.partial"
    content = {"recorded_at": timezone.now().isoformat(), MANIFEST_KEY: heads}
    with partial.open("w") as handle:
        json.dump(content, handle, indent=1, sort_keys=True)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, final)
    descriptor = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    return final


# -- a chain against its recorded heads ---------------------------------------------------


def head_problem(key: str, heads: list[RecordedHead]) -> str | None:
    """What is wrong with a chain, given the heads recorded for it: one line, or None.

    A recorded head must still be in the chain (same seq, same hash), or have been pruned
    by a checkpoint: pruning drops a chain's oldest events and keeps its end, and only
    events older than the retention period, so a recent head is never legitimately gone.
    """
    if not heads:
        return None
    tenant_id = chain_of(key)
    events = chain_events(tenant_id)
    bounds = events.aggregate(first=Min("seq"), last=Max("seq"))
    hashes = dict(events.filter(seq__in={head.seq for head in heads}).values_list("seq", "hash"))
    checkpoints = None
    for head in sorted(heads, key=lambda head: -head.seq):
        where = f"{head.source} recorded"
        if bounds["last"] is None:
            return f"it has no events, but {where} its head at seq {head.seq} (the chain was removed)"
        if head.seq > bounds["last"]:
            return (
                f"it ends at seq {bounds['last']}, but {where} its head at seq {head.seq} (events missing from the end)"
            )
        if head.seq in hashes:
            if hashes[head.seq] != head.hash:
                return f"the event at seq {head.seq} is not the one {where} (the chain was rewritten)"
            continue
        if head.seq > bounds["first"]:
            return f"the event at seq {head.seq}, which {where}, is missing"
        if checkpoints is None:
            checkpoints = list(events.filter(action=Action.CHECKPOINT).values_list("created_at", "detail"))
        problem = _pruned_problem(head, where, checkpoints)
        if problem:
            return problem
    return None


def _pruned_problem(head: RecordedHead, where: str, checkpoints: list) -> str | None:
    """A head before the chain's first event: a checkpoint must have pruned it, past its retention."""
    covering = [
        (detail.get("pruned_through_seq"), created_at, detail.get("anchor_hash"))
        for created_at, detail in checkpoints
        if isinstance(detail.get("pruned_through_seq"), int) and detail["pruned_through_seq"] >= head.seq
    ]
    if not covering:
        return f"it starts after seq {head.seq}, which {where}, and no checkpoint pruned it (events missing)"
    through, pruned_at, anchor = min(covering, key=lambda checkpoint: checkpoint[0])
    if through == head.seq and anchor != head.hash:
        return (
            f"the checkpoint that pruned seq {head.seq} does not anchor at the hash {where} (the chain was rewritten)"
        )
    retention = timedelta(days=settings.AUDIT_RETENTION_DAYS)
    if head.created_at is not None and not (head.created_at < pruned_at - retention and pruned_at <= timezone.now()):
        return (
            f"a checkpoint pruned seq {head.seq}, which {where}, before the retention period was over (events missing)"
        )
    return None
