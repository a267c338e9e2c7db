from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from crm.tenancy.models import ApiToken, time_zone_choices
from crm.web.forms import BootstrapFormMixin, DatalistInput, DateTimeInput


class PreferencesForm(forms.Form):
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)
    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        choices=time_zone_choices,
        widget=DatalistInput(attrs={"class": "form-control"}),
        help_text=_("Type part of a city's name, e.g. Shanghai, and pick it from the list."),
        error_messages={
            "invalid_choice": _("“%(value)s” is not a time zone: pick one from the list, e.g. Asia/Shanghai.")
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["language"].widget.attrs["class"] = "form-select"


class TenantSettingsForm(BootstrapFormMixin, forms.Form):
    """Company settings an admin may change: recycle-bin retention and legal hold."""

    retention_days = forms.IntegerField(
        label=_("Recycle bin retention (days)"),
        min_value=1,
        max_value=365,
        help_text=_("Deleted records are purged this many days after deletion (1 to 365)."),
    )
    legal_hold = forms.BooleanField(
        label=_("Legal hold"),
        required=False,
        help_text=_("While on, nothing in this company is purged: neither by retention nor by hand."),
    )


class ApiTokenForm(BootstrapFormMixin, forms.Form):
    """A new API token: what it is for, what it may do, until when."""

    name = forms.CharField(label=_("Name"), max_length=100, help_text=_("What uses the token, e.g. “invoicing sync”."))
    scope = forms.ChoiceField(label=_("Scope"), choices=ApiToken.Scope.choices, initial=ApiToken.Scope.READ_ONLY)
    expires_at = forms.DateTimeField(
        label=_("Expires"), required=False, widget=DateTimeInput(), help_text=_("Leave empty for no expiry.")
    )
