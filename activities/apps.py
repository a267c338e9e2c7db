from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ActivitiesConfig(AppConfig):
    name = "activities"
    verbose_name = _("Tasks and notifications")

    def ready(self):
        from django.db.models.signals import post_save
        from simple_history.signals import post_create_historical_record

        from activities import dashboard, demo, notify
        from activities.models import Task
        from crm.records import registry
        from crm.records.registry import EVERYTHING, DemoStep, RecordType
        from crm.records.signals import records_purged
        from crm.tenancy.roles import Role
        from customers.models import CustomerShare

        registry.register(
            RecordType(
                Task,
                # Whichever record a task hangs off takes it into the bin (and back) in its batch.
                bin_parents=("customer", "contact", "opportunity", "ticket"),
                label_field="title",
                rights={**registry.DEFAULT_RIGHTS, Role.SUPPORT: EVERYTHING},  # support works its own tasks
                api_prefix="tasks",
                api_viewset="activities.api.viewsets.TaskViewSet",
                personal_fields=("title", "notes"),
            )
        )
        registry.mount_urls("tasks/", "activities.urls.tasks")
        registry.mount_urls("notifications/", "activities.urls.notifications")
        for panel in dashboard.PANELS:
            registry.add_dashboard_panel(panel)
        registry.add_demo_step(DemoStep(demo.seed, order=30))
        post_create_historical_record.connect(notify.on_history_row, dispatch_uid="activities-assigned")
        post_save.connect(notify.on_share, sender=CustomerShare, dispatch_uid="activities-shared")
        records_purged.connect(notify.on_purge, dispatch_uid="activities-purged")
