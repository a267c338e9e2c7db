from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PoolConfig(AppConfig):
    name = "pool"
    verbose_name = _("Public pool")

    def ready(self):
        from crm.records import registry

        registry.mount_urls("pool/", "pool.urls")
        registry.add_api_urls("pool.api")
