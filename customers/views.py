from django.views.generic import DetailView, ListView

from crm.views_mixins import RestrictedQuerysetMixin
from customers.models import Customer


class CustomerListView(RestrictedQuerysetMixin, ListView):
    model = Customer
    paginate_by = 25
    template_name = "customers/customer_list.html"

    def get_queryset(self):
        return super().get_queryset().select_related("owner")


class CustomerDetailView(RestrictedQuerysetMixin, DetailView):
    model = Customer
    template_name = "customers/customer_detail.html"
