"""Contact and interaction pages: lists (all, or one customer's), detail, create (also inline on the
customer page, through htmx) and edit."""

import copy

from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext_lazy

from activities.actions import log_call
from crm.web.mixins import RecordCreateView, RecordDetailView, RecordListView, RecordUpdateView, may, permitted_ids
from customers import actions
from customers.filters import ContactFilter, InteractionFilter
from customers.forms import ContactForm, InteractionForm
from customers.models import Contact, Interaction
from customers.views.customers import TIMELINE_SHOWN, contacts_section, first_rows, timeline_section


class ChildListView(RecordListView):
    """Contacts and interactions: may be narrowed to one customer (`?customer=`)."""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = self.filterset.form
        context["filter_customer"] = form.cleaned_data.get("customer") if self.filterset.is_valid() else None
        query = self.request.GET.copy()
        for name in ("customer", "page"):
            query.pop(name, None)
        context["query_without_customer"] = query.urlencode()
        return context


class ContactListView(ChildListView):
    model = Contact
    filterset_class = ContactFilter
    template_name = "customers/contact_list.html"
    related = ("customer",)
    sort_fields = {"name": "name", "customer": "customer__name", "created": "created_at"}


class InteractionListView(ChildListView):
    model = Interaction
    filterset_class = InteractionFilter
    template_name = "customers/interaction_list.html"
    related = ("customer", "contact", "author")
    sort_fields = {"occurred": "occurred_at", "kind": "kind", "customer": "customer__name"}
    default_sort = "-occurred"


class ChildCreateView(RecordCreateView):
    """Create a contact or interaction of the customer in the URL.

    The customer must be one of `actions.parent_choices(user)` (the rule of
    every new child record): 404 otherwise. A normal POST redirects to the customer page; an htmx POST gets the
    updated section back (or the section with the form's errors).
    """

    section_template = ""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and may(request, "add", self.model):
            self.customer = get_object_or_404(actions.parent_choices(request.user), pk=kwargs["customer_pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user, "customer": self.customer}

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "customer": self.customer}

    def form_valid(self, form):
        response = super().form_valid(form)
        if self.request.htmx and response.status_code == 302:
            return self.render_section(form=None)
        return response

    def form_invalid(self, form):
        if self.request.htmx:
            return self.render_section(form=form)
        return super().form_invalid(form)

    def render_section(self, form):
        return render(self.request, self.section_template, self.section_context(form))


class ContactCreateView(ChildCreateView):
    model = Contact
    form_class = ContactForm
    template_name = "customers/contact_form.html"
    section_template = "customers/_contacts_section.html"
    success_message = gettext_lazy("Added contact %(name)s.")

    def perform(self, form):
        return actions.create_contact(self.customer, acting_user=self.request.user, **form.cleaned_data)

    def section_context(self, form):
        return contacts_section(self.request, self.customer, can_add=True, form=form)


class InteractionCreateView(ChildCreateView):
    model = Interaction
    form_class = InteractionForm
    template_name = "customers/interaction_form.html"
    section_template = "customers/_timeline.html"
    success_message = gettext_lazy("Logged: %(name)s")

    def get_initial(self):
        initial = super().get_initial()
        if self.request.GET.get("contact", "").isdigit():
            initial["contact"] = self.request.GET["contact"]
        return initial

    def perform(self, form):
        follow_up = form.follow_up_values()  # "add a follow-up task", in the same transaction
        return log_call(self.customer, acting_user=self.request.user, **follow_up, **form.cleaned_data)

    def section_context(self, form):
        return timeline_section(self.request, self.customer, can_log=True, form=form)


class ChildUpdateView(RecordUpdateView):
    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": copy.copy(self.object), "user": self.request.user}

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "customer": self.object.customer}


class ContactDetailView(RecordDetailView):
    model = Contact
    template_name = "customers/contact_detail.html"

    def get_object(self, queryset=None):
        return get_object_or_404(self.get_queryset().select_related("customer"), pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        contact = self.object
        context["customer"] = contact.customer
        context["interactions"], context["more_interactions"] = first_rows(
            Interaction.objects.for_user(self.request.user)
            .filter(contact=contact)
            .select_related("author", "customer")
            .order_by("-occurred_at", "-id"),
            TIMELINE_SHOWN,
        )
        context["changeable_interaction_ids"] = permitted_ids(
            self.request.user, Interaction, context["interactions"], "change"
        )
        context["can_log_interaction"] = (
            may(self.request, "add", Interaction)
            and actions.parent_choices(self.request.user).filter(pk=contact.customer_id).exists()
        )
        return context


class ContactUpdateView(ChildUpdateView):
    model = Contact
    form_class = ContactForm
    template_name = "customers/contact_form.html"
    success_message = gettext_lazy("Saved contact %(name)s.")

    def perform(self, form):
        return actions.update_contact(self.object, acting_user=self.request.user, **form.cleaned_data)

    def get_success_url(self):
        return reverse("customers:contact_detail", args=[self.object.pk])


class InteractionDetailView(RecordDetailView):
    model = Interaction
    template_name = "customers/interaction_detail.html"

    def get_object(self, queryset=None):
        return get_object_or_404(
            self.get_queryset().select_related("customer", "contact", "author"), pk=self.kwargs["pk"]
        )

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "customer": self.object.customer}


class InteractionUpdateView(ChildUpdateView):
    model = Interaction
    form_class = InteractionForm
    template_name = "customers/interaction_form.html"
    success_message = gettext_lazy("Saved: %(name)s")

    def perform(self, form):
        return actions.update_interaction(self.object, acting_user=self.request.user, **form.cleaned_data)

    def get_success_url(self):
        return reverse("customers:interaction_detail", args=[self.object.pk])
