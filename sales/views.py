from django.views.generic import DetailView, ListView

from crm.views_mixins import RestrictedQuerysetMixin
from sales.models import Opportunity


class OpportunityListView(RestrictedQuerysetMixin, ListView):
    model = Opportunity
    paginate_by = 25
    template_name = "sales/opportunity_list.html"

    def get_queryset(self):
        return super().get_queryset().select_related("customer", "owner")


class PipelineBoardView(OpportunityListView):
    paginate_by = None
    template_name = "sales/pipeline_board.html"


class OpportunityDetailView(RestrictedQuerysetMixin, DetailView):
    model = Opportunity
    template_name = "sales/opportunity_detail.html"
