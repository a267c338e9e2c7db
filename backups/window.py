"""The point-in-time window (PITR_WINDOW_DAYS, 14 by default): which base backups and archived WAL
segments may go. Never what the oldest moment in the window needs: the newest base backup from
before the window's start stays, with every segment from its first one on. While any company is
on legal hold, nothing goes (the archive holds every company's deleted records too)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from backups import basestore, storage, wal, walcopy
from backups.models import BaseBackup
from crm.tenancy.models import Tenant

# A segment, or the label pg_basebackup leaves beside one; timeline history files always stay
# (and, sealed by backups/walcopy.py, encrypted and with its checksum beside it).
ARCHIVED = re.compile(r"^([0-9A-F]{8})([0-9A-F]{16})(\.[0-9A-F]{8}\.backup)?\.gz(\.enc)?(\.sha256)?$")


@dataclass
class Pruned:
    base_backups: list[int] = field(default_factory=list)
    segments: int = 0


def apply_window(days: int | None = None) -> Pruned:
    pruned = Pruned()
    if Tenant.objects.filter(legal_hold=True).exists():
        return pruned
    start = timezone.now() - timedelta(days=settings.PITR_WINDOW_DAYS if days is None else days)
    good = list(BaseBackup.objects.filter(status=BaseBackup.Status.GOOD).order_by("-finished_at", "-id"))
    kept = [base for base in good if base.finished_at >= start]
    before = [base for base in good if base.finished_at < start]
    kept += before[:1]  # it reaches back to the window's start
    needed = {part.pk for base in kept for part in base.chain()}  # an incremental needs its chain
    for base in before[1:]:
        if base.pk in needed:
            continue
        if BaseBackup.objects.filter(pk=base.pk, status=BaseBackup.Status.GOOD).update(status=BaseBackup.Status.PRUNED):
            basestore.remove(base.path, base.copy_location)
            pruned.base_backups.append(base.pk)
    if kept:
        # Segment numbers only, as pg_archivecleanup compares them: a later timeline continues the count.
        # The chains' older members stay recoverable too (the window's start counts them): their WAL stays.
        needed_from = min(base.first_segment[8:] for base in good if base.pk in needed)
        pruned.segments = _remove_segments_before(wal.archive_dir(), needed_from)
        copy = walcopy.copy_dir()
        if copy and not storage.is_remote(copy) and Path(copy).is_dir():  # the second copy goes with it
            _remove_segments_before(Path(copy), needed_from)
    return pruned


def _remove_segments_before(directory: Path, needed_from: str) -> int:
    removed = 0
    for path in directory.iterdir():
        found = ARCHIVED.match(path.name)
        if found and found.group(2) < needed_from:
            path.unlink(missing_ok=True)
            removed += 1
    return removed
