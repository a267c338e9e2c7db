"""Customer pages: the list with its bulk actions, the customer page with its sections, create and edit.

Reads go through `Model.objects.for_user(user, action)`, writes through
`customers.actions` with `acting_user=request.user`. Lists and the detail
page's related lists run a fixed number of queries whatever the number of
rows: related rows are fetched with select_related, and "may the user change
this row?" is answered for a whole page at once (`permitted_ids`), never per
row in a template.
"""

import copy

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import F
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views import View

from crm.records.registry import record_models
from crm.records.versions import changed_since_message, selection
from crm.tenancy.members import display_name, tenant_members
from crm.web.mixins import RecordCreateView, RecordDetailView, RecordListView, RecordUpdateView, may, permitted_ids
from crm.web.redirects import safe_next
from customers import actions
from customers.filters import CustomerFilter
from customers.forms import ContactForm, CustomerBulkForm, CustomerForm, InteractionForm
from customers.models import Contact, Customer, CustomerShare, Interaction, Ticket
from customers.views.customer_rows import customer_rows
from customers.views.sharing import sharing_section

# How many related rows the detail pages show before linking to the full list.
CONTACTS_SHOWN = 25
TIMELINE_SHOWN = 20
RELATED_SHOWN = 10


def first_rows(queryset, limit):
    """(rows, more): up to `limit` rows, and whether there are more (one query, no COUNT)."""
    rows = list(queryset[: limit + 1])
    return rows[:limit], len(rows) > limit


class CustomerListView(RecordListView):
    model = Customer
    filterset_class = CustomerFilter
    template_name = "customers/customer_list.html"
    related = ("owner",)
    count_in_default_order = True  # index customer_tenant_name: (tenant, name, id) of alive rows
    sort_fields = {
        "name": "name",
        "tier": "tier",
        "status": "status",
        "owner": "owner__username",
        "created": "created_at",
    }

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        mark_shared_with_me(self.request.user, context["object_list"])
        context["members"] = list(page_members(self.filterset)) if context["can_change_any"] else []
        context["bulk_actions"] = CustomerBulkForm.ACTIONS
        context["rows"] = customer_rows(
            context["object_list"], context["changeable_ids"], selectable=context["can_change_any"]
        )
        return context


def page_members(filterset):
    """The company's members for the bulk owner select: the owner filter's own choices (a QuerySet keeps
    what it read, so its select then shows them without reading them again): one query for both."""
    field = filterset.form.fields.get("owner") if filterset is not None else None
    return tenant_members() if field is None else field.queryset


def mark_shared_with_me(user, customers) -> None:
    """Sets `shared_with_me` on each customer of a page: one query whatever the page size."""
    customers = list(customers)
    shared = set()
    if customers:
        shares = CustomerShare.objects.filter(user_id=user.pk, customer_id__in=[customer.pk for customer in customers])
        shared = set(shares.values_list("customer_id", flat=True))
    for customer in customers:
        customer.shared_with_me = customer.pk in shared


# -- the sections of the customer page (also returned alone to htmx) --------------------------------


def contacts_section(request, customer, *, can_add, form=None):
    contacts, more = first_rows(
        Contact.objects.for_user(request.user).filter(customer=customer).order_by("name", "id"), CONTACTS_SHOWN
    )
    if can_add and form is None:
        form = ContactForm(user=request.user, customer=customer)
    return {
        "customer": customer,
        "contacts": contacts,
        "more_contacts": more,
        "changeable_contact_ids": permitted_ids(request.user, Contact, contacts, "change"),
        "can_add_contact": can_add,
        "contact_form": form,
    }


def timeline_section(request, customer, *, can_log, form=None):
    interactions, more = first_rows(
        Interaction.objects.for_user(request.user)
        .filter(customer=customer)
        .select_related("author", "contact")
        .order_by("-occurred_at", "-id"),
        TIMELINE_SHOWN,
    )
    if can_log and form is None:
        form = InteractionForm(user=request.user, customer=customer)
    return {
        "customer": customer,
        "interactions": interactions,
        "more_interactions": more,
        "changeable_interaction_ids": permitted_ids(request.user, Interaction, interactions, "change"),
        "can_log_interaction": can_log,
        "interaction_form": form,
    }


class CustomerDetailView(RecordDetailView):
    model = Customer
    template_name = "customers/customer_detail.html"

    def get_object(self, queryset=None):
        return get_object_or_404(self.get_queryset().select_related("owner"), pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        customer, request = self.object, self.request
        can_change = context["can_change"]
        context.update(contacts_section(request, customer, can_add=can_change and may(request, "add", Contact)))
        context.update(timeline_section(request, customer, can_log=can_change and may(request, "add", Interaction)))
        context.update(sharing_section(request, customer))
        # Opportunities live in the sales app, which builds on this one: found through the registry.
        Opportunity = record_models().get("opportunity")
        context["can_view_opportunities"] = Opportunity is not None and may(request, "view", Opportunity)
        if context["can_view_opportunities"]:
            context["opportunities"], context["more_opportunities"] = first_rows(
                Opportunity.objects.for_user(request.user)
                .filter(customer=customer)
                .select_related("owner")
                .order_by(F("closed_at").desc(nulls_first=True), "expected_close_date", "id"),
                RELATED_SHOWN,
            )
        context["tickets"], context["more_tickets"] = first_rows(
            Ticket.objects.for_user(request.user)
            .filter(customer=customer)
            .select_related("assignee")
            .order_by("-created_at", "-id"),
            RELATED_SHOWN,
        )
        return context


class CustomerFormMixin:
    model = Customer
    form_class = CustomerForm
    template_name = "customers/customer_form.html"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def get_success_url(self):
        if Customer.objects.for_user(self.request.user).filter(pk=self.object.pk).exists():
            return self.object.get_absolute_url()
        # The user gave the customer away (a rep choosing another owner): back to the list.
        messages.info(self.request, _("%(name)s now belongs to someone else.") % {"name": self.object})
        return reverse("customers:list")


class CustomerCreateView(CustomerFormMixin, RecordCreateView):
    success_message = gettext_lazy("Created customer %(name)s.")

    def perform(self, form):
        return actions.create_customer(acting_user=self.request.user, **form.cleaned_data)


class CustomerUpdateView(CustomerFormMixin, RecordUpdateView):
    success_message = gettext_lazy("Saved %(name)s.")

    def get_form_kwargs(self):
        # The form edits a copy, so the page keeps showing the saved record if the input is rejected.
        return {**super().get_form_kwargs(), "instance": copy.copy(self.object)}

    def perform(self, form):
        return actions.update_customer(self.object, acting_user=self.request.user, **form.cleaned_data)


class CustomerBulkView(LoginRequiredMixin, View):
    """The list's bulk actions: one set-based UPDATE over the selected rows the user may change."""

    http_method_names = ["post"]

    def post(self, request):
        if not may(request, "change", Customer):
            raise PermissionDenied
        back = safe_next(request, "customers:list")
        form = CustomerBulkForm(request.POST)
        if not form.is_valid():
            for errors in form.errors.values():
                for error in errors:
                    messages.error(request, error)
            return redirect(back)
        ids, action = form.cleaned_data["ids"], form.cleaned_data["action"]
        try:
            seen = selection(ids, request.POST.getlist("seen"))
        except ValueError:
            messages.error(request, _("The page sent versions that are not versions; reload it and try again."))
            return redirect(back)
        stale = seen.changed_since(Customer)
        # Only the selected rows still as the page showed them.
        customers = seen.narrow(Customer.objects.for_user(request.user, "change"))
        try:
            if action == CustomerBulkForm.ASSIGN_OWNER:
                owner = form.cleaned_data["owner"]
                changed = actions.bulk_assign_owner(customers, owner, acting_user=request.user)
                message = ngettext(
                    "Assigned %(count)d customer to %(owner)s.", "Assigned %(count)d customers to %(owner)s.", changed
                ) % {"count": changed, "owner": display_name(owner)}
            else:
                tag = form.cleaned_data["tag"]
                changed = actions.bulk_add_tag(customers, tag, acting_user=request.user)
                message = ngettext(
                    "Tagged %(count)d customer “%(tag)s”.", "Tagged %(count)d customers “%(tag)s”.", changed
                ) % {"count": changed, "tag": tag}
        except ValidationError as error:
            for text in error.messages:
                messages.error(request, text)
            return redirect(back)
        if stale:
            messages.warning(request, changed_since_message(len(stale)))
        unchanged = len(ids) - changed - len(stale)
        if not changed and stale:
            return redirect(back)
        if not changed:
            messages.info(
                request,
                _("Nothing changed: the selected customers already had that value, or you may not change them."),
            )
            return redirect(back)
        messages.success(request, message)
        if unchanged > 0:
            messages.info(
                request,
                ngettext(
                    "%(count)d selected customer was left as it was: it already had that value, or you may not change it.",
                    "%(count)d selected customers were left as they were: they already had that value, or you may not change them.",
                    unchanged,
                )
                % {"count": unchanged},
            )
        return redirect(back)
