"""/metrics: Prometheus text behind a bearer token: requests, tasks, backups, recycle bins."""

import re
from datetime import timedelta

import pytest
from celery import shared_task
from django.utils import timezone

from crm.tenancy.context import activate
from ops.tasks import heartbeat as heartbeat_task
from tests.backups.helpers import fake_backup

pytestmark = pytest.mark.django_db
TOKEN = "a-long-random-metrics-token"


@shared_task(name="tests.ops.always_fails")
def always_fails():
    raise RuntimeError("on purpose")


@pytest.fixture
def scrape(client, settings):
    settings.METRICS_TOKEN = TOKEN

    def get() -> str:
        response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/plain; version=")
        return response.content.decode()

    return get


def value(text: str, sample: str) -> float | None:
    match = re.search(rf"^{re.escape(sample)} (\S+)$", text, re.M)
    return float(match.group(1)) if match else None


def test_metrics_are_off_without_a_token_and_refused_with_a_wrong_one(client, settings):
    assert client.get("/metrics").status_code == 404
    settings.METRICS_TOKEN = TOKEN
    for header in ({}, {"HTTP_AUTHORIZATION": "Bearer wrong"}, {"HTTP_AUTHORIZATION": f"Basic {TOKEN}"}):
        response = client.get("/metrics", **header)
        assert response.status_code == 401
        assert response["WWW-Authenticate"].startswith("Bearer")
        assert "METRICS_TOKEN" in response.json()["error"]


def test_requests_are_counted_and_timed_by_route_not_by_path(client, scrape):
    sample = 'crm_http_request_duration_seconds_count{method="GET",route="healthz",status="200"}'
    before = value(scrape(), sample) or 0
    client.get("/healthz")
    client.get("/healthz")
    text = scrape()
    assert value(text, sample) == before + 2
    assert 'crm_http_request_duration_seconds_bucket{le="0.1",method="GET",route="healthz",status="200"}' in text
    client.get("/no/such/page/123")
    client.generic("BREW", "/healthz")
    text = scrape()
    assert 'method="GET",route="unmatched",status="404"' in text
    assert 'method="other",route="healthz"' in text and "BREW" not in text  # labels a client cannot multiply


def test_task_runs_and_failures_are_counted_across_processes(scrape):
    heartbeat_task.apply()
    heartbeat_task.apply()
    always_fails.apply()
    text = scrape()
    assert value(text, 'crm_celery_task_runs_total{task="ops.tasks.heartbeat"}') == 2
    assert value(text, 'crm_celery_task_runs_total{task="tests.ops.always_fails"}') == 1
    assert value(text, 'crm_celery_task_failures_total{task="tests.ops.always_fails"}') == 1
    assert value(text, 'crm_celery_task_failures_total{task="ops.tasks.heartbeat"}') is None


def test_the_last_good_backups_age_and_size(scrape, backup_dir):
    assert value(scrape(), "crm_backup_last_good_size_bytes") is None
    fake_backup(backup_dir, finished_at=timezone.now() - timedelta(hours=2), size=123456)
    text = scrape()
    assert value(text, "crm_backup_last_good_size_bytes") == 123456
    assert 7190 < value(text, "crm_backup_last_good_age_seconds") < 7300


def test_recycle_bin_size_per_company_and_type(scrape, tenant, records, other_records, other_tenant):
    with activate(tenant):
        for _ in range(2):
            records.customer().delete()
        records.customer()  # alive: not in the bin
    with activate(other_tenant):
        other_records.customer().delete()
    text = scrape()
    assert value(text, 'crm_recycle_bin_records{company="alpha",type="customer"}') == 2
    assert value(text, 'crm_recycle_bin_records{company="beta",type="customer"}') == 1
