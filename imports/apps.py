from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ImportsConfig(AppConfig):
    name = "imports"
    verbose_name = _("Imports")

    def ready(self):
        from crm.records import registry
        from imports.files import MAX_BYTES

        registry.mount_urls("imports/", "imports.urls")
        registry.add_api_urls("imports.api")
        # A file of up to 50 MB, with room for the form's other fields and the multipart framing.
        for prefix in ("/imports/new/", "/imports/delete-by-list/", "/api/v1/imports/"):
            registry.allow_uploads(prefix, MAX_BYTES + 1024 * 1024)
