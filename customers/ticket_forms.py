"""Forms of the ticket pages: create/edit, quick status change and assignment."""

from django import forms
from django.utils.translation import gettext_lazy as _

from crm.forms import BootstrapFormMixin, DateTimeInput, MemberChoiceField
from customers.models import Customer, Ticket


class TicketForm(BootstrapFormMixin, forms.ModelForm):
    # The choices are set per user in __init__ (the default would query without a tenant).
    customer = forms.ModelChoiceField(label=_("Customer"), queryset=Customer.all_objects.none())

    class Meta:
        model = Ticket
        fields = ["customer", "subject", "description", "status", "priority", "assignee", "due_at"]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 6}),
            "due_at": DateTimeInput(),
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        # Built per request: the choices are the active tenant's members.
        self.fields["assignee"] = member_field(label=_("Assignee"), empty_label=_("Unassigned"))
        customer = self.fields["customer"]
        customer.queryset = Customer.objects.for_user(user, "view").order_by("name", "id")
        customer.empty_label = _("Choose a customer")
        self.fields["subject"].widget.attrs.setdefault("autofocus", True)

    def action_values(self, *, only_changed: bool) -> dict:
        names = self.changed_data if only_changed else list(self.cleaned_data)
        return {name: self.cleaned_data[name] for name in names if name in self.cleaned_data}


class TicketStatusForm(BootstrapFormMixin, forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=Ticket.Status.choices)


class TicketAssignForm(BootstrapFormMixin, forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"] = member_field(label=_("Assignee"), empty_label=_("Unassigned"))


def member_field(**kwargs) -> MemberChoiceField:
    """A member choice built per request (BootstrapFormMixin has already styled the others)."""
    field = MemberChoiceField(**kwargs)
    field.widget.attrs["class"] = "form-select"
    return field
