"""Prometheus metrics (prometheus-client): requests here, the rest read when /metrics is scraped.

Requests are counted in the web process; with several gunicorn workers set
PROMETHEUS_MULTIPROC_DIR so they share one set of figures. Celery tasks run in other
processes and containers, so their counts live in Redis (hashes under the cache's key prefix).
"""

from __future__ import annotations

import logging
import time
from functools import lru_cache

import redis
from django.conf import settings
from django.core.cache import cache
from django.db.models import Count
from django.utils import timezone
from prometheus_client import Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from crm.tenancy.context import Context, reset_context, set_context
from crm.tenancy.middleware import request_id_of
from ops.health import last_good_backup

TASK_RUNS = "ops:metrics:task_runs"
TASK_FAILURES = "ops:metrics:task_failures"

REQUESTS = Histogram(
    "crm_http_request_duration_seconds",
    "Time to answer an HTTP request, by route, method and status",
    ["route", "method", "status"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
access_log = logging.getLogger("crm.request")
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class RequestMetricsMiddleware:
    """Times each request into REQUESTS and writes one access-log line (with the request id)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        # The request id for every line of the request, the middleware's around the tenant's included.
        token = set_context(Context(request_id=request_id_of(request)))
        try:
            response = self.get_response(request)
            self._observe(request, response, time.perf_counter() - started)
        finally:
            reset_context(token)
        return response

    @staticmethod
    def _observe(request, response, elapsed):
        match = request.resolver_match
        route = match.route if match else "unmatched"  # a route, not a path: ids stay out of labels
        method = request.method if request.method in METHODS else "other"  # clients choose methods
        REQUESTS.labels(route, method, response.status_code).observe(elapsed)
        access_log.info(
            "%s %s %s",
            request.method,
            request.path,
            response.status_code,
            extra={"status": response.status_code, "duration_ms": round(elapsed * 1000, 1)},
        )


@lru_cache(maxsize=1)
def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL)


def count_task(name: str, counter: str) -> None:
    _redis().hincrby(cache.make_key(counter), name, 1)


class AppCollector:
    """Figures read at scrape time: Celery task runs and failures, the last good backup, the bins."""

    def collect(self):
        yield from self._tasks()
        yield from self._backup()
        yield self._bins()

    def _tasks(self):
        for key, name, text in (
            (TASK_RUNS, "crm_celery_task_runs", "Celery task runs, by task"),
            (TASK_FAILURES, "crm_celery_task_failures", "Celery tasks that raised, by task"),
        ):
            family = CounterMetricFamily(name, text, labels=["task"])
            for task, count in sorted(_redis().hgetall(cache.make_key(key)).items()):
                family.add_metric([task.decode()], int(count))
            yield family

    def _backup(self):
        last = last_good_backup()
        age = GaugeMetricFamily("crm_backup_last_good_age_seconds", "Seconds since the last good backup finished")
        size = GaugeMetricFamily("crm_backup_last_good_size_bytes", "Size of the last good backup")
        if last:
            age.add_metric([], (timezone.now() - last.finished_at).total_seconds())
            size.add_metric([], last.size or 0)
        yield age
        yield size

    def _bins(self):
        from crm.records.registry import record_types
        from crm.tenancy.models import Tenant

        family = GaugeMetricFamily(
            "crm_recycle_bin_records", "Records in the recycle bin, by company and type", labels=["company", "type"]
        )
        slugs = dict(Tenant.objects.values_list("pk", "slug"))
        for name, record_type in sorted(record_types().items()):
            counts = (
                record_type.model.all_objects.filter(deleted_at__isnull=False)
                .values_list("tenant_id")
                .annotate(n=Count("pk"))
                .order_by()
            )
            for tenant_id, n in counts:
                family.add_metric([slugs.get(tenant_id, str(tenant_id)), name], n)
        return family
