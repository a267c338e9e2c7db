"""The form of the webhook pages."""

from django import forms
from django.utils.translation import gettext_lazy as _

from crm.web.forms import BootstrapFormMixin
from webhooks.addresses import check_url
from webhooks.models import EVENTS, Endpoint, Preset


class EndpointForm(BootstrapFormMixin, forms.ModelForm):
    url = forms.URLField(
        label=_("URL"), max_length=500, assume_scheme="https", widget=forms.URLInput(attrs={"placeholder": "https://"})
    )
    events = forms.MultipleChoiceField(
        label=_("Events"), choices=[(name, name) for name in EVENTS], widget=forms.CheckboxSelectMultiple
    )
    secret = forms.CharField(
        label=_("Secret"),
        required=False,
        max_length=200,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=_(
            "JSON: left empty, one is generated and shown once. DingTalk: the robot's signing secret (SEC…), "
            "if it has one. When editing, left empty keeps the stored secret."
        ),
    )

    class Meta:
        model = Endpoint
        fields = ["name", "url", "preset", "events", "language", "active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["preset"].initial = Preset.GENERIC

    def clean_url(self):
        url = self.cleaned_data["url"]
        check_url(url)  # the action checks again; here it shows beside the other errors
        return url

    def action_values(self, *, only_changed: bool) -> dict:
        names = self.changed_data if only_changed else list(self.cleaned_data)
        values = {name: self.cleaned_data[name] for name in names if name in self.cleaned_data}
        if not values.get("secret"):
            values.pop("secret", None)
        return values
