from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BackupsConfig(AppConfig):
    name = "backups"
    verbose_name = _("Backups")

    def ready(self):
        from crm.records import registry

        registry.mount_urls("backups/", "backups.urls")
        registry.add_api_urls("backups.api.urls")
