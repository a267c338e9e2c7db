"""Grandfather-father-son retention of good backups.

Keeps the newest good backup of each of the last `daily` days, `weekly` ISO
weeks and `monthly` months that have one, plus the newest `newest` good
backups whatever their dates, and always the newest backup a restore drill
passed. Only backups whose file is there with its recorded checksum count: one
that fails the check is marked bad (never restored, never counted) and kept for
inspection. Failed runs never count and never cause a good backup to be deleted.

Safety backups taken before a restore are not part of the rotation: each is kept
for at least the longest recycle-bin retention of any company, and none is
removed while any company has legal hold on.

Retention deletes only files backups made (storage.delete_files).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db.models import Max
from django.utils import timezone

from backups import storage
from backups.models import Backup, RestoreDrill
from crm.tenancy.models import Tenant


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


# Kept by their own rules (expired_safety_backups), never counted as the day's or week's backup.
NOT_ROTATED = (Backup.Kind.PRE_RESTORE, Backup.Kind.POINT_IN_TIME)


def apply_retention(policy: Policy | None = None) -> list[int]:
    """Delete the files of good backups outside the policy; returns their ids."""
    policy = policy or Policy.from_settings()
    rotated = Backup.objects.filter(status=Backup.Status.GOOD).exclude(kind__in=NOT_ROTATED)
    intact = [backup for backup in rotated.order_by("-started_at", "-id") if _intact(backup)]
    keep = to_keep([(backup.pk, backup.started_at) for backup in intact], policy)
    drilled = intact_drilled(intact)
    if drilled is not None:
        keep.add(drilled)
    expired = [backup for backup in intact if backup.pk not in keep] + expired_safety_backups()
    return [backup.pk for backup in sorted(expired, key=lambda b: b.started_at) if _prune(backup)]


def _intact(backup: Backup) -> bool:
    reason = storage.verify(backup)
    if reason:
        storage.mark_bad(backup, reason)
    return not reason


def intact_drilled(intact: list[Backup]) -> int | None:
    """The newest of `intact` a restore drill passed."""
    drilled = RestoreDrill.objects.filter(backup__in=intact, passed=True).order_by("-backup__started_at", "-backup_id")
    return drilled.values_list("backup_id", flat=True).first()


def expired_safety_backups() -> list[Backup]:
    """Safety backups older than the longest bin retention, and backups of a recovered moment (made
    for one restore, backups/pitr.py) older than a day; none while any company has legal hold on."""
    if Tenant.objects.filter(legal_hold=True).exists():
        return []
    days = Tenant.objects.aggregate(longest=Max("retention_days"))["longest"] or 0
    now = timezone.now()
    good = Backup.objects.filter(status=Backup.Status.GOOD)
    safety = good.filter(kind=Backup.Kind.PRE_RESTORE, started_at__lt=now - timedelta(days=max(days, 1)))
    recovered = good.filter(kind=Backup.Kind.POINT_IN_TIME, started_at__lt=now - timedelta(days=1))
    return list(safety) + list(recovered)


def _prune(backup: Backup) -> bool:
    # The status first: from here on nothing restores from it or checks it.
    if not Backup.objects.filter(pk=backup.pk, status=Backup.Status.GOOD).update(status=Backup.Status.PRUNED):
        return False
    storage.delete_files(backup)
    return True
