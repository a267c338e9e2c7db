from django import forms
from django.utils.translation import gettext_lazy as _

from imports.listdelete import KINDS
from imports.models import Import
from imports.specs import TYPE_CHOICES


class UploadForm(forms.Form):
    file = forms.FileField(label=_("CSV or Excel (.xlsx) file"))
    record_type = forms.ChoiceField(label=_("Import"), choices=TYPE_CHOICES, initial="customer")
    mode = forms.ChoiceField(label=_("Mode"), choices=Import.Mode.choices, initial=Import.Mode.CREATE)


class DeleteListForm(forms.Form):
    file = forms.FileField(label=_("CSV or Excel (.xlsx) file with the list"))
    record_type = forms.ChoiceField(label=_("Delete"), choices=TYPE_CHOICES, initial="customer")
    kind = forms.ChoiceField(label=_("The column holds"), choices=KINDS, initial="email")
    column = forms.CharField(
        label=_("Column header"), max_length=200, required=False, help_text=_("Empty: the first column.")
    )
