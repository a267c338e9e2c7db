from django.apps import AppConfig


class OpsConfig(AppConfig):
    """What an operator watches: readiness, metrics, logs with request ids, heartbeats."""

    name = "ops"
    verbose_name = "Operations"

    def ready(self):
        from crm.records import registry
        from ops import signals  # noqa: F401  (connects the Celery signals)

        registry.mount_urls("", "ops.urls")
