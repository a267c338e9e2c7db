from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = _("Webhooks")

    def ready(self):
        from django.db.models.signals import post_save

        from audit.models import AuditEvent
        from crm.records import registry
        from crm.records.registry import EVERYTHING, RecordType
        from crm.tenancy.roles import Role
        from webhooks import hooks
        from webhooks.models import Endpoint

        registry.register(
            RecordType(
                Endpoint,
                rights={Role.ADMIN: EVERYTHING},  # a company's administrators only
                api_prefix="webhooks",
                api_viewset="webhooks.api.EndpointViewSet",
            )
        )
        registry.mount_urls("webhooks/", "webhooks.urls")
        post_save.connect(hooks.on_audit_event, sender=AuditEvent, dispatch_uid="webhooks-audit-events")
