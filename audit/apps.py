from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = _("Audit")

    def ready(self):
        from audit import signals  # noqa: F401
        from crm.records import registry

        registry.mount_urls("audit/", "audit.urls")
        registry.add_api_urls("audit.api.urls")
