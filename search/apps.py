from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SearchConfig(AppConfig):
    """The header's search box, its results page and GET /api/v1/search/."""

    name = "search"
    verbose_name = _("Search")

    def ready(self):
        from crm.records import registry

        registry.mount_urls("search/", "search.urls")
        registry.add_api_urls("search.api")
