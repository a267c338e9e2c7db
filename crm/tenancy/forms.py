from django import forms
from django.conf import settings
from django.contrib.auth import forms as auth_forms
from django.utils.translation import gettext_lazy as _

from crm.tenancy import account_actions
from crm.tenancy.models import DUPLICATE_HELP, DUPLICATE_POLICIES, ApiToken, Tenant, time_zone_choices
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
    mfa_required = forms.ChoiceField(
        label=_("Two-factor sign-in required"),
        required=False,
        choices=Tenant._meta.get_field("mfa_required").choices,
        help_text=Tenant._meta.get_field("mfa_required").help_text,
    )
    # The public pool (pool/). An empty number keeps the current value.
    pool_enabled = forms.BooleanField(
        label=_("Public pool"), required=False, help_text=Tenant._meta.get_field("pool_enabled").help_text
    )
    pool_claims_per_day = forms.IntegerField(
        label=_("Claims per rep per day"), required=False, min_value=1, max_value=1000
    )
    pool_max_held = forms.IntegerField(
        label=_("Customers a rep may hold"),
        required=False,
        min_value=1,
        max_value=100000,
        help_text=Tenant._meta.get_field("pool_max_held").help_text,
    )
    pool_reclaim_days = forms.IntegerField(
        label=_("Return to the pool after (days)"),
        required=False,
        min_value=2,
        max_value=365,
        help_text=Tenant._meta.get_field("pool_reclaim_days").help_text,
    )
    pool_warn_days = forms.IntegerField(
        label=_("Warn the owner (days before)"),
        required=False,
        min_value=1,
        max_value=364,
        help_text=Tenant._meta.get_field("pool_warn_days").help_text,
    )
    # The duplicate check at entry, per key; left out of a post, a setting stays as it is.
    duplicate_email = forms.ChoiceField(
        label=_("Same email"), required=False, choices=DUPLICATE_POLICIES, help_text=DUPLICATE_HELP
    )
    duplicate_phone = forms.ChoiceField(
        label=_("Same phone"), required=False, choices=DUPLICATE_POLICIES, help_text=DUPLICATE_HELP
    )
    duplicate_name = forms.ChoiceField(
        label=_("Same name"), required=False, choices=DUPLICATE_POLICIES, help_text=DUPLICATE_HELP
    )

    def clean(self):
        cleaned = super().clean()
        for name in ("duplicate_email", "duplicate_phone", "duplicate_name"):
            if not cleaned.get(name):
                cleaned.pop(name, None)
        return cleaned


class ApiTokenForm(BootstrapFormMixin, forms.Form):
    """A new API token: what it is for, what it may do, until when."""

    name = forms.CharField(label=_("Name"), max_length=100, help_text=_("What uses the token, e.g. “invoicing sync”."))
    scope = forms.ChoiceField(label=_("Scope"), choices=ApiToken.Scope.choices, initial=ApiToken.Scope.READ_ONLY)
    expires_at = forms.DateTimeField(
        label=_("Expires"), required=False, widget=DateTimeInput(), help_text=_("Leave empty for no expiry.")
    )


class PasswordChangeForm(BootstrapFormMixin, auth_forms.PasswordChangeForm):
    """Django's form (old password, new twice, the validators), saved through the action."""

    keep_tokens = forms.BooleanField(
        label=_("Keep my API tokens"),
        required=False,
        help_text=_("Unticked, your API tokens stop working, as your other sessions do."),
    )

    def save(self, commit=True):
        account_actions.change_password(
            self.user,
            self.cleaned_data["old_password"],
            self.cleaned_data["new_password1"],
            acting_user=self.user,
            keep_tokens=self.cleaned_data["keep_tokens"],
        )
        return self.user


class PasswordResetForm(BootstrapFormMixin, auth_forms.PasswordResetForm):
    pass


class SetPasswordForm(BootstrapFormMixin, auth_forms.SetPasswordForm):
    """The new password after a reset link, saved through the action (which also clears a lockout)."""

    def save(self, commit=True):
        account_actions.reset_password(self.user, self.cleaned_data["new_password1"], acting_user=self.user)
        return self.user
