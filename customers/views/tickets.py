"""Ticket pages: list, detail with quick status change and assignment, create, edit."""

import copy

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import F
from django.http import HttpResponseRedirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.records.versions import VersionConflict
from crm.tenancy.members import display_name
from crm.web.forms import add_errors
from crm.web.mixins import RecordCreateView, RecordDetailView, RecordListView, RecordUpdateView, in_order, may
from crm.web.redirects import safe_next
from customers import actions, conversation_actions
from customers.filters import TicketFilter
from customers.forms import TicketAssignForm, TicketForm, TicketMessageForm, TicketStatusForm
from customers.models import Customer, Ticket, TicketMessage

ORDERED_CHOICES = {
    "status": in_order("status", Ticket.Status.values),
    "priority": in_order("priority", Ticket.Priority.values),
}


class TicketPermissionMixin:
    model = Ticket

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not may(request, "view", Ticket):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class TicketListView(TicketPermissionMixin, RecordListView):
    template_name = "customers/ticket_list.html"
    filterset_class = TicketFilter
    sort_fields = {
        "subject": "subject",
        "status": "status",
        "priority": "priority",
        "due_at": "due_at",
        "assignee": "assignee__username",
        "customer": "customer__name",
        "created_at": "created_at",
    }

    def get_queryset(self):
        return super().get_queryset().select_related("customer", "assignee")

    def ordering_fields(self):
        fields = []
        for field in super().ordering_fields():
            name = field.lstrip("-")
            if name in ORDERED_CHOICES:
                expression = ORDERED_CHOICES[name]
                fields.append(expression.desc() if field.startswith("-") else expression.asc())
            elif name == "due_at":
                # Tickets without a due time come last either way.
                due = F("due_at")
                fields.append(due.desc(nulls_last=True) if field.startswith("-") else due.asc(nulls_last=True))
            else:
                fields.append(field)
        return fields

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["now"] = timezone.now()
        return context


class TicketDetailView(TicketPermissionMixin, RecordDetailView):
    template_name = "customers/ticket_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        ticket = self.object
        version = {"version": ticket.version}  # the small forms say which version they change
        context.setdefault("status_form", TicketStatusForm(initial={"status": ticket.status, **version}))
        context.setdefault("assign_form", TicketAssignForm(initial={"assignee": ticket.assignee_id, **version}))
        context.setdefault("message_form", TicketMessageForm())
        context["statuses"] = Ticket.Status.choices
        context["is_overdue"] = bool(ticket.is_open and ticket.due_at and ticket.due_at < timezone.now())
        # The thread, oldest first, in one query (the author's name with it).
        context["thread"] = (
            TicketMessage.objects.for_user(self.request.user, "view")
            .filter(ticket=ticket)
            .select_related("author")
            .order_by("created_at", "id")
        )
        context["can_write_messages"] = may(self.request, "add", TicketMessage)
        return context


class TicketChangeView(TicketDetailView):
    """A POST that changes one thing on a ticket; errors re-render the detail page (400)."""

    action = "change"
    http_method_names = ["post"]
    form_class = None
    context_form_name = ""

    def post(self, request, *args, **kwargs):
        self.object = self.get_object()
        form = self.form_class(request.POST)
        if form.is_valid():
            try:
                message = self.perform(form)
            except ValidationError as error:
                add_errors(form, error)
            except VersionConflict:
                # The page showed an older ticket: nothing is written; show the ticket as it is now.
                messages.warning(
                    request,
                    _(
                        "The ticket changed since you loaded the page, so your change was not made; it is shown as it is now."
                    ),
                )
                return HttpResponseRedirect(self.object.get_absolute_url())
            else:
                messages.success(request, message)
                return HttpResponseRedirect(safe_next(request, self.object.get_absolute_url()))
        self.object.refresh_from_db()
        context = self.get_context_data(object=self.object, **{self.context_form_name: form})
        return self.render_to_response(context, status=400)


class TicketStatusView(TicketChangeView):
    form_class = TicketStatusForm
    context_form_name = "status_form"

    def perform(self, form):
        ticket = actions.change_ticket_status(
            self.object,
            form.cleaned_data["status"],
            acting_user=self.request.user,
            expected_version=form.cleaned_data["version"],
        )
        return _("Status changed to %(status)s.") % {"status": ticket.get_status_display()}


class TicketAssignView(TicketChangeView):
    form_class = TicketAssignForm
    context_form_name = "assign_form"

    def perform(self, form):
        assignee = form.cleaned_data["assignee"]
        actions.assign_ticket(
            self.object, assignee, acting_user=self.request.user, expected_version=form.cleaned_data["version"]
        )
        if assignee is None:
            return _("The ticket is now unassigned.")
        if assignee == self.request.user:
            return _("The ticket is now assigned to you.")
        return _("The ticket is now assigned to %(name)s.") % {"name": display_name(assignee)}


class TicketMessageCreateView(TicketChangeView):
    """Add a reply, an internal note or a logged customer reply to the thread."""

    action = "view"  # whoever sees the ticket may answer it, if their role adds messages
    form_class = TicketMessageForm
    context_form_name = "message_form"

    def post(self, request, *args, **kwargs):
        if not may(request, "add", TicketMessage):
            raise PermissionDenied
        return super().post(request, *args, **kwargs)

    def perform(self, form):
        data = form.cleaned_data
        conversation_actions.add_ticket_message(self.object, data["kind"], data["body"], acting_user=self.request.user)
        return {
            TicketMessage.Kind.REPLY: _("Reply added."),
            TicketMessage.Kind.NOTE: _("Internal note added."),
            TicketMessage.Kind.CUSTOMER: _("The customer's reply is logged."),
        }[data["kind"]]


class TicketFormMixin(TicketPermissionMixin):
    form_class = TicketForm
    template_name = "customers/ticket_form.html"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}


class TicketCreateView(TicketFormMixin, RecordCreateView):
    success_message = gettext_lazy("Ticket “%(name)s” created.")

    def get_initial(self):
        initial = {"status": Ticket.Status.NEW, "priority": Ticket.Priority.NORMAL}
        customer = preselected_customer(self.request)
        if customer is not None:
            initial["customer"] = customer.pk
        return initial

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "preselected_customer": preselected_customer(self.request)}

    def perform(self, form):
        values = form.action_values(only_changed=False)
        customer = values.pop("customer")
        return actions.create_ticket(customer, acting_user=self.request.user, **values)


class TicketUpdateView(TicketFormMixin, RecordUpdateView):
    success_message = gettext_lazy("Ticket “%(name)s” saved.")

    def get_form_kwargs(self):
        # The form validates a copy: the action sees the ticket as stored.
        return {**super().get_form_kwargs(), "instance": copy.copy(self.object)}

    def perform(self, form):
        return actions.update_ticket(
            self.object, acting_user=self.request.user, **form.action_values(only_changed=True)
        )


def preselected_customer(request):
    """The customer named by ?customer=<pk> if the user may see it; garbage is ignored."""
    if not hasattr(request, "_preselected_customer"):
        raw = request.GET.get("customer", "")
        customer = None
        if raw.isdigit() and len(raw) < 19:
            customer = Customer.objects.for_user(request.user, "view").filter(pk=int(raw)).first()
        request._preselected_customer = customer
    return request._preselected_customer
