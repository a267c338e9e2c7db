"""Forms of the backup pages: finding the customer to bring back, which new database to restore into.

They read the input; the rules about it (a name not in use, not the live database)
are backups.actions', whose ValidationError the views add to these forms.
"""

from django import forms
from django.utils.translation import gettext_lazy as _

from backups.actions import MAX_ID
from crm.web.forms import BootstrapFormMixin


class CustomerSearchForm(BootstrapFormMixin, forms.Form):
    q = forms.CharField(
        label=_("Customer name"),
        max_length=200,
        required=False,
        strip=True,
        help_text=_("Part of the name as it was in the backup, in any case, or the customer's #id."),
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )


class CustomerRestoreForm(BootstrapFormMixin, forms.Form):
    """The customer chosen from the search (its id as it was in the backup)."""

    customer = forms.IntegerField(
        label=_("Customer id"),
        min_value=1,
        max_value=MAX_ID,
        error_messages={"required": _("Enter the id of the customer to bring back.")},
    )


class DatabaseRestoreForm(BootstrapFormMixin, forms.Form):
    database = forms.CharField(
        label=_("Name of the new database"),
        max_length=63,
        strip=True,
        help_text=_("Lower-case letters, digits and underscores, starting with a letter or underscore."),
        error_messages={"required": _("Enter a name for the new database.")},
    )


class MomentRestoreForm(BootstrapFormMixin, forms.Form):
    """Restore to a moment: the date and time (in the user's time zone) and what to bring back."""

    moment = forms.DateTimeField(
        label=_("Date and time"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        help_text=_("In your time zone, within the recovery window."),
        error_messages={"required": _("Enter a date and time."), "invalid": _("Enter a date and time.")},
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "step": "1"}, format="%Y-%m-%dT%H:%M:%S"),
    )
    scope = forms.ChoiceField(label=_("What to bring back"), widget=forms.RadioSelect)
    customer = forms.IntegerField(label=_("Customer id"), min_value=1, max_value=MAX_ID, required=False)
    database = forms.CharField(
        label=_("Name of the new database"),
        max_length=63,
        strip=True,
        required=False,
        help_text=_("Lower-case letters, digits and underscores, starting with a letter or underscore."),
    )

    def __init__(self, *args, scopes=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["scope"].choices = list(scopes)
        if len(scopes) == 1:
            self.fields["scope"].initial = scopes[0][0]

    def clean(self):
        data = super().clean()
        if data.get("scope") == "customer" and not data.get("customer"):
            self.add_error("customer", _("Enter the id of the customer to bring back."))
        if data.get("scope") == "database" and not data.get("database"):
            self.add_error("database", _("Enter a name for the new database."))
        return data
