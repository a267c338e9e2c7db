from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SavedViewsConfig(AppConfig):
    name = "crm.savedviews"
    label = "savedviews"
    verbose_name = _("Saved views")

    def ready(self):
        from crm.records import registry
        from crm.records.registry import EVERYTHING, RecordType
        from crm.savedviews.models import SavedView
        from crm.tenancy.roles import Role

        registry.register(
            RecordType(
                SavedView,
                label_field="name",
                # Support works lists as everyone does; a viewer picks views but saves none.
                rights={**registry.DEFAULT_RIGHTS, Role.SUPPORT: EVERYTHING},
                api_prefix="saved-views",
                api_viewset="crm.savedviews.api.SavedViewViewSet",
                personal_fields=("name", "query"),  # a search in the filters may name a person
            )
        )
        registry.mount_urls("saved-views/", "crm.savedviews.urls")
