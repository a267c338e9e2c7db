from django.views.generic import DetailView, ListView

from crm.views_mixins import RestrictedQuerysetMixin
from customers.models import Ticket


class TicketListView(RestrictedQuerysetMixin, ListView):
    model = Ticket
    paginate_by = 25
    template_name = "customers/ticket_list.html"

    def get_queryset(self):
        return super().get_queryset().select_related("customer", "assignee")


class TicketDetailView(RestrictedQuerysetMixin, DetailView):
    model = Ticket
    template_name = "customers/ticket_detail.html"
