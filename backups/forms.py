"""Forms of the backup pages: which customer to bring back, which new database to restore into."""

import re

import psycopg2
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from backups import postgres
from backups.models import RestoreRun
from crm.web.forms import BootstrapFormMixin

MAX_ID = 2**63 - 1  # bigint
DATABASE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")  # a plain PostgreSQL identifier, never quoted oddly
RESERVED_DATABASES = frozenset({"postgres", "template0", "template1"})


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

    def clean_database(self):
        name = self.cleaned_data["database"]
        if not DATABASE_NAME.match(name):
            raise ValidationError(
                _(
                    "Use only lower-case letters, digits and underscores (at most 63), starting with a letter or underscore."
                ),
                code="invalid",
            )
        if name == settings.DATABASES["default"]["NAME"]:
            raise ValidationError(_("This is the live database; a backup is only restored into a new one."))
        if name in RESERVED_DATABASES:
            raise ValidationError(_("%(name)s is reserved by PostgreSQL; choose another name."), params={"name": name})
        running = RestoreRun.objects.filter(
            scope=RestoreRun.Scope.DATABASE, target=name, status=RestoreRun.Status.RUNNING
        )
        if running.exists():
            raise ValidationError(_("A restore into %(name)s is already running."), params={"name": name})
        try:
            exists = postgres.database_exists(name)
        except psycopg2.Error:
            raise ValidationError(_("Could not reach the database server to check the name; try again.")) from None
        if exists:
            raise ValidationError(
                _("A database named %(name)s already exists; choose a new name."), params={"name": name}
            )
        return name
