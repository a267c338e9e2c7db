from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AttachmentsConfig(AppConfig):
    name = "attachments"
    verbose_name = _("Attachments")

    def ready(self):
        from attachments.models import Attachment
        from crm.records import registry
        from crm.records.registry import EVERYTHING, READ_ONLY, RecordType
        from crm.tenancy.roles import Role

        registry.register(
            RecordType(
                Attachment,
                # A file goes to the recycle bin with the record it is on (and its customer's delete).
                bin_parents=("customer", "contact", "opportunity", "ticket"),
                # Support attaches files to tickets (the queryset narrows it to those).
                rights={**registry.DEFAULT_RIGHTS, Role.SUPPORT: EVERYTHING - {"change"}, Role.VIEWER: READ_ONLY},
                api_prefix="attachments",
                api_viewset="attachments.api.viewsets.AttachmentViewSet",
                personal_fields=("name",),
                contents=("attachments.AttachmentChunk",),
            )
        )
        registry.mount_urls("attachments/", "attachments.urls")
        registry.add_api_urls("attachments.api.urls")
