"""When beat last sent the heartbeat and when a worker last ran it, kept in Redis (the cache)."""

from __future__ import annotations

import time

from django.core.cache import cache

BEAT_KEY = "ops:heartbeat:beat"
WORKER_KEY = "ops:heartbeat:worker"
TASK = "ops.tasks.heartbeat"
FROM_BEAT = "beat"  # the argument beat's schedule sends, so a tick is told from a health probe


def record(key: str) -> None:
    cache.set(key, time.time(), timeout=None)


def ages() -> dict[str, float | None]:
    """Seconds since beat's last tick and since a worker last answered (None: never)."""
    now = time.time()
    stamps = cache.get_many([BEAT_KEY, WORKER_KEY])
    return {key: (now - stamps[key]) if key in stamps else None for key in (BEAT_KEY, WORKER_KEY)}
