"""Forms of the task pages, the follow-up fields of Log a call and Move stage, and email preferences."""

from django import forms
from django.utils.translation import gettext_lazy as _

from activities.models import Kind, Task
from crm.web.forms import BootstrapFormMixin, DateTimeInput, member_field
from customers.actions import parent_choices
from customers.models import Customer


class TaskForm(BootstrapFormMixin, forms.ModelForm):
    # The choices are set per user in __init__ (the default would query without a tenant).
    customer = forms.ModelChoiceField(label=_("Customer"), queryset=Customer.all_objects.none(), required=False)

    class Meta:
        model = Task
        fields = ["title", "due_at", "remind_before", "priority", "assignee", "customer", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 4}), "due_at": DateTimeInput()}

    def __init__(self, *args, user, parent=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"] = member_field(label=_("Assignee"), empty_label=_("Unassigned"))
        self.fields["remind_before"].widget.choices = [("", _("Only at the due time")), *Task.RemindBefore.choices]
        # A task on a contact, deal or ticket keeps that parent; others may pick a customer.
        if parent is not None and parent._meta.model_name != "customer":
            del self.fields["customer"]
        else:
            customer = self.fields["customer"]
            customer.queryset = parent_choices(user)
            customer.empty_label = _("No customer (a task of its own)")
        self.fields["title"].widget.attrs.setdefault("autofocus", True)

    def action_values(self, *, only_changed: bool) -> dict:
        names = self.changed_data if only_changed else list(self.cleaned_data)
        return {name: self.cleaned_data[name] for name in names if name in self.cleaned_data}


class EmailPreferencesForm(BootstrapFormMixin, forms.Form):
    email = forms.MultipleChoiceField(
        label=_("Also email me when"),
        choices=Kind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
