"""Forms of the opportunity pages: create/edit and the pipeline's "move to stage"."""

from django import forms
from django.utils.translation import gettext_lazy as _

from activities.follow_up import FollowUpFields
from crm.web.forms import BootstrapFormMixin, DateInput, member_field
from customers.actions import parent_choices
from customers.forms import IdListField
from customers.models import Customer
from sales.models import LostReason, Opportunity


def lost_reason_field() -> forms.ChoiceField:
    """The company's list of lost reasons (built per request: the active company's rows)."""
    labels = LostReason.objects.values_list("label", flat=True)
    return forms.ChoiceField(
        label=_("Lost reason"),
        choices=[("", _("Other (describe it)")), *((label, label) for label in labels)],
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
    )


class OpportunityForm(BootstrapFormMixin, forms.ModelForm):
    # The choices are set per user in __init__ (the default would query without a tenant).
    customer = forms.ModelChoiceField(label=_("Customer"), queryset=Customer.all_objects.none())

    class Meta:
        model = Opportunity
        fields = [
            "customer",
            "name",
            "amount",
            "currency",
            "stage",
            "probability",
            "expected_close_date",
            "owner",
            "lost_reason_choice",
            "lost_reason",
        ]
        widgets = {
            "expected_close_date": DateInput(),
            "lost_reason": forms.Textarea(attrs={"rows": 2}),
        }
        help_texts = {
            "probability": _("Leave empty to use the stage's usual probability."),
            "lost_reason": _("Only kept when the stage is Lost."),
            "currency": _("Three-letter ISO 4217 code, such as CNY or USD."),
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        # Built per request: the choices are the active tenant's members.
        self.fields["owner"] = member_field(label=_("Owner"), empty_label=_("No owner"))
        self.fields["lost_reason_choice"] = lost_reason_field()
        customer = self.fields["customer"]
        customer.queryset = parent_choices(user)
        customer.empty_label = _("Choose a customer")
        self.fields["probability"].required = False
        self.fields["amount"].widget.attrs.update(min="0", step="0.01", inputmode="decimal")
        self.fields["currency"].widget.attrs.update(
            maxlength="3", autocapitalize="characters", style="text-transform: uppercase", size="4"
        )
        self.fields["name"].widget.attrs.setdefault("autofocus", True)

    def clean_currency(self):
        return (self.cleaned_data.get("currency") or "").strip().upper()

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("stage") != Opportunity.Stage.LOST:
            cleaned["lost_reason"] = ""
            cleaned["lost_reason_choice"] = ""
        return cleaned

    def action_values(self, *, only_changed: bool) -> dict:
        """The values to hand to the actions; an empty probability follows the stage."""
        names = self.changed_data if only_changed else list(self.cleaned_data)
        values = {name: self.cleaned_data[name] for name in names if name in self.cleaned_data}
        if values.get("probability", 0) is None:
            values.pop("probability")
        return values


class MoveForm(BootstrapFormMixin, FollowUpFields):
    """Move a deal to another stage (the board's drag and drop and its "Move to…" form)."""

    stage = forms.ChoiceField(label=_("Move to"), choices=Opportunity.Stage.choices)
    lost_reason_choice = forms.ChoiceField(required=False)
    lost_reason = forms.CharField(label=_("Why was it lost?"), required=False, max_length=500, widget=forms.TextInput())
    # The version the card or page showed: a deal changed since is not moved.
    version = forms.IntegerField(required=False, min_value=1, max_value=2**31 - 1, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lost_reason_choice"] = lost_reason_field()
        self.order_fields(["stage", "lost_reason_choice", "lost_reason"])

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("stage") != Opportunity.Stage.LOST:
            cleaned["lost_reason"] = ""
            cleaned["lost_reason_choice"] = ""
        return cleaned


class BulkMoveForm(forms.Form):
    """The list's "Move selected to" bar: the selected `ids` and the stage."""

    ids = IdListField()
    stage = forms.ChoiceField(label=_("Move to"), choices=Opportunity.Stage.choices)
