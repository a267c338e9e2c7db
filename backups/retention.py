"""Grandfather-father-son retention of good backups.

Keeps the newest good backup of each of the last `daily` days, `weekly` ISO
weeks and `monthly` months that have one, plus the newest `newest` good
backups whatever their dates. Failed runs never count and never cause a good
backup to be deleted.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from backups.models import Backup


@dataclass(frozen=True)
class Policy:
    daily: int = 7
    weekly: int = 4
    monthly: int = 12
    newest: int = 3

    @classmethod
    def from_settings(cls):
        return cls(**settings.BACKUP_RETENTION)


def to_keep(good: list[tuple[int, object]], policy: Policy) -> set[int]:
    """Ids to keep among (id, started_at) of good backups."""
    newest_first = sorted(good, key=lambda item: (item[1], item[0]), reverse=True)
    keep = {backup_id for backup_id, _when in newest_first[: policy.newest]}
    for count, period in ((policy.daily, _day), (policy.weekly, _week), (policy.monthly, _month)):
        seen: list = []
        for backup_id, when in newest_first:
            key = period(when)
            if key in seen:
                continue
            if len(seen) == count:
                break
            seen.append(key)
            keep.add(backup_id)
    return keep


def _day(when):
    return timezone.localtime(when).date()


def _week(when):
    year, week, _weekday = timezone.localtime(when).isocalendar()
    return year, week


def _month(when):
    local = timezone.localtime(when)
    return local.year, local.month


def apply_retention(policy: Policy | None = None) -> list[int]:
    """Delete the files of good backups outside the policy; returns their ids."""
    policy = policy or Policy.from_settings()
    good = list(Backup.objects.filter(status=Backup.Status.GOOD).values_list("id", "started_at"))
    keep = to_keep(good, policy)
    pruned = []
    for backup in Backup.objects.filter(status=Backup.Status.GOOD).exclude(id__in=keep).order_by("started_at"):
        for path in (Path(backup.path), Path(backup.path).with_suffix(".json")):
            path.unlink(missing_ok=True)
        Backup.objects.filter(pk=backup.pk).update(status=Backup.Status.PRUNED)
        pruned.append(backup.pk)
    return pruned
