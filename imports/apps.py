from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ImportsConfig(AppConfig):
    name = "imports"
    verbose_name = _("Imports")

    def ready(self):
        from crm.records import registry

        registry.mount_urls("imports/", "imports.urls")
        registry.add_api_urls("imports.api")
