import hmac

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest, multiprocess

from ops import health
from ops.metrics import AppCollector

APP_REGISTRY = CollectorRegistry(auto_describe=False)
APP_REGISTRY.register(AppCollector())


@never_cache
def readyz(request):
    ready, checks = health.run_checks()
    return JsonResponse({"status": "ok" if ready else "fail", "checks": checks}, status=200 if ready else 503)


def _authorized(request) -> bool:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), settings.METRICS_TOKEN.encode())


@never_cache
def metrics(request):
    if not settings.METRICS_TOKEN:
        return JsonResponse({"error": "metrics are off: set METRICS_TOKEN"}, status=404)
    if not _authorized(request):
        response = JsonResponse({"error": "send Authorization: Bearer <METRICS_TOKEN>"}, status=401)
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    if settings.PROMETHEUS_MULTIPROC_DIR:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return HttpResponse(generate_latest(registry) + generate_latest(APP_REGISTRY), content_type=CONTENT_TYPE_LATEST)
