"""/readyz: per-check JSON, 200 when every check passes, 503 (never 500) when one fails."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from backups.models import Backup
from ops import heartbeat
from ops.tasks import heartbeat as heartbeat_task
from tests.backups.helpers import fake_backup

pytestmark = pytest.mark.django_db


@pytest.fixture
def healthy(backup_dir):
    fake_backup(backup_dir, finished_at=timezone.now() - timedelta(hours=1), size=4096)
    heartbeat.record(heartbeat.BEAT_KEY)  # what beat does when it sends the heartbeat
    assert heartbeat_task.apply(args=("beat",)).get() == "ok"  # what a worker does when it runs it


def readiness(client, status):
    response = client.get("/readyz")
    assert response.status_code == status, response.content
    assert response["Cache-Control"].startswith("max-age=0")
    return response.json()


def test_ready_when_database_redis_worker_beat_and_backup_are_fine(client, healthy):
    body = readiness(client, 200)
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "redis", "worker", "beat", "backup", "wal_archiving"}
    for name in ("database", "redis", "worker", "beat", "backup"):
        assert body["checks"][name]["status"] == "ok", body["checks"][name]
    assert 3500 < body["checks"]["backup"]["age_seconds"] < 3700 and body["checks"]["backup"]["size"] == 4096
    # The embedded server of `make test` archives WAL (point-in-time recovery); a server that does not
    # is reported "off", which does not count against readiness.
    with connection.cursor() as cursor:
        cursor.execute("SHOW archive_mode")
        archiving = cursor.fetchone()[0] == "on"
    wal = body["checks"]["wal_archiving"]
    if archiving:
        assert wal["status"] == "ok" and wal["detail"].startswith(("last segment archived", "nothing archived")), wal
    else:
        assert wal == {"status": "off", "detail": "archive_mode is off"}


def test_a_silent_worker_and_a_stuck_beat_make_it_not_ready(client, healthy):
    with time_machine.travel(timezone.now() + timedelta(seconds=90)):
        body = readiness(client, 503)
    assert body["status"] == "fail"
    assert body["checks"]["worker"]["status"] == "fail" and body["checks"]["beat"]["status"] == "fail"
    assert body["checks"]["worker"]["detail"].startswith("a worker answered 9")
    assert body["checks"]["database"]["status"] == "ok" and body["checks"]["backup"]["status"] == "ok"


def test_never_a_heartbeat_is_not_ready(client, backup_dir):
    fake_backup(backup_dir, finished_at=timezone.now())
    checks = readiness(client, 503)["checks"]
    assert checks["worker"] == {"status": "fail", "detail": "a worker never answered"}
    assert checks["beat"] == {"status": "fail", "detail": "beat never answered"}


def test_no_good_backup_or_an_old_one_is_not_ready(client, healthy, backup_dir, settings):
    Backup.objects.update(status=Backup.Status.BAD)
    fake_backup(backup_dir, status=Backup.Status.FAILED, finished_at=timezone.now())
    fake_backup(backup_dir)  # good but not finished: a row no backup leaves, never the "last good" one
    assert readiness(client, 503)["checks"]["backup"] == {"status": "fail", "detail": "no good backup yet"}
    fake_backup(backup_dir, finished_at=timezone.now() - timedelta(hours=30))
    assert readiness(client, 503)["checks"]["backup"]["detail"] == "last good backup 30.0 h ago"
    settings.READY_BACKUP_MAX_AGE = 48
    readiness(client, 200)


def test_redis_down_is_a_503_with_the_reason_not_a_500(client, healthy, settings, caplog):
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": "redis://127.0.0.1:1/0"}}
    checks = readiness(client, 503)["checks"]
    assert checks["redis"] == {"status": "fail", "detail": "ConnectionError"}  # no addresses for anyone to read
    assert "127.0.0.1:1" in caplog.text  # the operator's log has them
    assert checks["database"]["status"] == "ok"


def test_liveness_stays_cheap_and_separate(client, django_assert_max_num_queries):
    with django_assert_max_num_queries(1):
        response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
