"""The readiness checks behind /readyz: each says "ok", "fail" or "off" and why, in a few words.

docs/operations.md says what each one means and what to do when it fails.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from ops import heartbeat

logger = logging.getLogger(__name__)

OK, FAIL, OFF = "ok", "fail", "off"


def _result(healthy: bool, detail: str, **figures) -> dict:
    return {"status": OK if healthy else FAIL, "detail": detail, **figures}


def _age(key: str, limit: int, who: str) -> dict:
    age = heartbeat.ages()[key]
    if age is None:
        return _result(False, f"{who} never answered")
    return _result(age <= limit, f"{who} answered {age:.0f} s ago (limit {limit} s)", age_seconds=round(age, 1))


def database() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return _result(True, "answers")


def redis() -> dict:
    cache.get(heartbeat.BEAT_KEY)
    return _result(True, "answers")


def worker() -> dict:
    return _age(heartbeat.WORKER_KEY, settings.READY_WORKER_MAX_AGE, "a worker")


def beat() -> dict:
    return _age(heartbeat.BEAT_KEY, settings.READY_BEAT_MAX_AGE, "beat")


def last_good_backup():
    from backups.models import Backup

    return Backup.objects.filter(status=Backup.Status.GOOD, finished_at__isnull=False).order_by("-finished_at").first()


def backup() -> dict:
    last = last_good_backup()
    if last is None:
        return _result(False, "no good backup yet")
    age = (timezone.now() - last.finished_at).total_seconds()
    limit = settings.READY_BACKUP_MAX_AGE * 3600
    return _result(age <= limit, f"last good backup {age / 3600:.1f} h ago", age_seconds=round(age), size=last.size)


def wal_archiving() -> dict:
    """PostgreSQL's own archiver statistics; "off" where archive_mode is off."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('archive_mode'), last_archived_time, last_failed_time, now() FROM pg_stat_archiver"
        )
        mode, archived, failed, now = cursor.fetchone()
    if mode == "off":
        return {"status": OFF, "detail": "archive_mode is off"}
    if failed and (archived is None or failed > archived):
        return _result(False, f"archive_command failing since {failed.isoformat()}")
    if archived is None:
        return _result(True, "nothing archived yet")
    age = (now - archived).total_seconds()
    return _result(True, f"last segment archived {age:.0f} s ago", age_seconds=round(age))


CHECKS = {
    "database": database,
    "redis": redis,
    "worker": worker,
    "beat": beat,
    "backup": backup,
    "wal_archiving": wal_archiving,
}


def run_checks() -> tuple[bool, dict]:
    """(ready, {name: result}); a check that raises has failed. The answer names the error's class
    only (anyone may ask); the log has the whole error."""
    results = {}
    for name, check in CHECKS.items():
        try:
            results[name] = check()
        except Exception as error:  # a probe reports what broke instead of answering 500
            logger.warning("readiness check %s failed", name, exc_info=True)
            results[name] = _result(False, type(error).__name__)
    return all(result["status"] != FAIL for result in results.values()), results
