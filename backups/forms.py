"""Forms of the backup pages: which customer to bring back, which new database to restore into.

They read the input; the rules about it (a name not in use, not the live database)
are backups.actions', whose ValidationError the views add to these forms.
"""

from django import forms
from django.utils.translation import gettext_lazy as _

from backups.actions import MAX_ID
from crm.web.forms import BootstrapFormMixin


class CustomerRestoreForm(BootstrapFormMixin, forms.Form):
    customer = forms.IntegerField(
        label=_("Customer id"),
        min_value=1,
        max_value=MAX_ID,
        help_text=_("The number shown as #id on the customer's page, in the recycle bin or in the audit log."),
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
