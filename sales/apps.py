from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SalesConfig(AppConfig):
    name = "sales"
    verbose_name = _("Sales")

    def ready(self):
        from crm.records import registry
        from crm.records.registry import DemoStep, RecordType
        from crm.tenancy.roles import Role
        from sales import dashboard, demo
        from sales.models import Opportunity

        registry.register(
            RecordType(
                Opportunity,
                bin_parents=("customer",),
                rights={**registry.DEFAULT_RIGHTS, Role.SUPPORT: frozenset()},  # support does not see the pipeline
                api_prefix="opportunities",
                api_viewset="sales.api.viewsets.OpportunityViewSet",
                personal_fields=("name", "lost_reason"),
            )
        )
        registry.mount_urls("opportunities/", "sales.urls")
        for panel in dashboard.PANELS:
            registry.add_dashboard_panel(panel)
        registry.add_demo_step(DemoStep(demo.seed, order=20))
