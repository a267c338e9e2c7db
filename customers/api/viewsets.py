"""Customers, contacts, interactions and tickets over the API (see crm.api.viewsets.RecordViewSet)."""

from drf_spectacular.utils import extend_schema, extend_schema_view

from crm.api.viewsets import RecordViewSet
from customers import actions
from customers.api.filters import ContactFilterSet, CustomerFilterSet, InteractionFilterSet, TicketFilterSet
from customers.api.merges import MergeEndpoints
from customers.api.serializers import ContactSerializer, CustomerSerializer, InteractionSerializer, TicketSerializer
from customers.api.shares import ShareEndpoints
from customers.models import Contact, Customer, Interaction, Ticket


def _documented(name: str):
    return extend_schema_view(
        list=extend_schema(summary=f"List {name}", tags=[name]),
        create=extend_schema(summary=f"Create a {name[:-1]}", tags=[name]),
        retrieve=extend_schema(summary=f"One {name[:-1]}", tags=[name]),
        update=extend_schema(summary=f"Replace a {name[:-1]}", tags=[name]),
        partial_update=extend_schema(summary=f"Change some fields of a {name[:-1]}", tags=[name]),
        destroy=extend_schema(tags=[name]),
        bulk_delete=extend_schema(tags=[name]),
        history=extend_schema(tags=[name]),
        revert=extend_schema(tags=[name]),
    )


@_documented("customers")
class CustomerViewSet(MergeEndpoints, ShareEndpoints, RecordViewSet):
    """Customers the user can see (reps: their own and those shared with them)."""

    model = Customer
    serializer_class = CustomerSerializer
    list_from_columns = True  # crm.api.listplan
    filterset_class = CustomerFilterSet
    search_fields = ("name", "email", "phone__digits")
    ordering_fields = ("name", "created_at", "updated_at", "status", "tier")

    def create_record(self, values):
        return actions.create_customer(acting_user=self.request.user, **values)

    def update_record(self, record, values):
        return actions.update_customer(record, acting_user=self.request.user, **values)


@_documented("contacts")
class ContactViewSet(MergeEndpoints, RecordViewSet):
    """Contacts of the customers the user can see."""

    model = Contact
    serializer_class = ContactSerializer
    list_from_columns = True  # crm.api.listplan
    filterset_class = ContactFilterSet
    search_fields = ("name", "email", "title")
    ordering_fields = ("name", "created_at", "updated_at")

    def create_record(self, values):
        return actions.create_contact(values.pop("customer"), acting_user=self.request.user, **values)

    def update_record(self, record, values):
        return actions.update_contact(record, acting_user=self.request.user, **values)


@_documented("interactions")
class InteractionViewSet(RecordViewSet):
    """Interactions (calls, emails, meetings, notes) with the customers the user can see."""

    model = Interaction
    serializer_class = InteractionSerializer
    list_from_columns = True  # crm.api.listplan
    filterset_class = InteractionFilterSet
    search_fields = ("summary",)
    ordering_fields = ("occurred_at", "created_at", "kind")

    def create_record(self, values):
        return actions.log_interaction(values.pop("customer"), acting_user=self.request.user, **values)

    def update_record(self, record, values):
        return actions.update_interaction(record, acting_user=self.request.user, **values)


@_documented("tickets")
class TicketViewSet(RecordViewSet):
    """Service tickets of the customers the user can see."""

    model = Ticket
    serializer_class = TicketSerializer
    list_from_columns = True  # crm.api.listplan
    filterset_class = TicketFilterSet
    search_fields = ("subject",)
    ordering_fields = ("created_at", "updated_at", "due_at", "priority", "status", "subject")

    def create_record(self, values):
        return actions.create_ticket(values.pop("customer"), acting_user=self.request.user, **values)

    def update_record(self, record, values):
        return actions.update_ticket(record, acting_user=self.request.user, **values)
