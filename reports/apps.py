from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    """Read-only reports over customers, sales and tickets: pages, API, dashboard charts."""

    name = "reports"
    verbose_name = _("Reports")

    def ready(self):
        from crm.records import registry
        from reports import dashboard

        registry.mount_urls("reports/", "reports.urls")
        registry.add_api_urls("reports.api")
        for panel in dashboard.PANELS:
            registry.add_dashboard_panel(panel)
