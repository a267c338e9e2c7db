from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "customers"
    verbose_name = _("Customers")

    def ready(self):
        from crm.records import registry
        from crm.records.registry import EVERYTHING, DemoStep, RecordType
        from crm.tenancy.roles import Role
        from customers import dashboard, demo
        from customers.models import Contact, Customer, Interaction, Ticket, TicketMessage

        registry.register(
            RecordType(
                Customer,
                api_prefix="customers",
                api_viewset="customers.api.viewsets.CustomerViewSet",
                personal_fields=("name", "email", "phone", "website", "address", "notes"),
                erasable=True,
            )
        )
        registry.register(
            RecordType(
                Contact,
                bin_parents=("customer",),
                api_prefix="contacts",
                api_viewset="customers.api.viewsets.ContactViewSet",
                personal_fields=("name", "title", "email", "phone"),
                erasable=True,
            )
        )
        registry.register(
            RecordType(
                Interaction,
                bin_parents=("customer",),
                label_field="summary",
                api_prefix="interactions",
                api_viewset="customers.api.viewsets.InteractionViewSet",
                personal_fields=("summary",),
            )
        )
        registry.register(
            RecordType(
                Ticket,
                bin_parents=("customer",),
                label_field="subject",
                rights={**registry.DEFAULT_RIGHTS, Role.SUPPORT: EVERYTHING},  # support works the tickets
                api_prefix="tickets",
                api_viewset="customers.api.viewsets.TicketViewSet",
                personal_fields=("subject", "description"),
            )
        )
        registry.register(
            RecordType(
                TicketMessage,
                bin_parents=("ticket",),  # into the bin (and back) with its ticket's batch
                label_field="body",
                rights={**registry.DEFAULT_RIGHTS, Role.SUPPORT: EVERYTHING},  # support answers tickets
                api_prefix="ticket-messages",
                api_viewset="customers.api.messages.TicketMessageViewSet",
                personal_fields=("body",),
            )
        )
        registry.mount_urls("customers/", "customers.urls.customers")
        registry.mount_urls("tickets/", "customers.urls.tickets")
        for panel in dashboard.PANELS:
            registry.add_dashboard_panel(panel)
        registry.add_demo_step(DemoStep(demo.seed, order=10))
