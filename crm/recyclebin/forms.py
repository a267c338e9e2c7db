"""Forms of the recycle-bin pages: the filters, and picking a manager for a purge grant."""

from datetime import timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from crm.tenancy.members import display_name, tenant_managers, tenant_members
from crm.web.forms import DATE_VALIDATORS, BootstrapFormMixin, DateInput, start_of


class MemberField(forms.ModelChoiceField):
    def label_from_instance(self, user):
        return display_name(user)


class BinFilterForm(BootstrapFormMixin, forms.Form):
    """The bin's filters: record type, who deleted, when (dates, inclusive), a search, a batch."""

    type = forms.ChoiceField(label=_("Type"), required=False)
    deleted_by = MemberField(label=_("Deleted by"), queryset=None, required=False, empty_label=_("Anyone"))
    since = forms.DateField(label=_("Deleted from"), required=False, widget=DateInput(), validators=DATE_VALIDATORS)
    until = forms.DateField(label=_("Deleted until"), required=False, widget=DateInput(), validators=DATE_VALIDATORS)
    q = forms.CharField(label=_("Search"), required=False, max_length=200, strip=True)
    batch = forms.UUIDField(required=False, widget=forms.HiddenInput())

    def __init__(self, *args, type_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["type"].choices = [("", _("All types")), *type_choices]
        self.fields["deleted_by"].queryset = tenant_members()
        for field in self.fields.values():
            if isinstance(field.widget, forms.Select):
                field.widget.attrs["class"] += " form-select-sm"
            elif not isinstance(field.widget, forms.HiddenInput):
                field.widget.attrs["class"] += " form-control-sm"
        self.fields["q"].widget.attrs["placeholder"] = _("Name, subject, summary…")

    def clean(self):
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            raise ValidationError(_("The start date is after the end date."))
        return cleaned

    def entries_filters(self) -> dict:
        """Keyword arguments for crm.recyclebin.listing.entries() (valid forms only)."""
        data = self.cleaned_data
        return {
            "types": [data["type"]] if data.get("type") else None,
            "deleted_by": data.get("deleted_by"),
            "since": start_of(data["since"]) if data.get("since") else None,
            "until": start_of(data["until"] + timedelta(days=1)) if data.get("until") else None,
            "search": data.get("q") or "",
            "batch": data.get("batch"),
        }

    @property
    def is_filtered(self) -> bool:
        return self.is_bound and any(self.data.get(name) for name in self.fields)


class GrantPurgeForm(forms.Form):
    """Pick a manager of the active tenant to receive (or lose) a purge grant."""

    user = MemberField(label=_("Manager"), queryset=None, empty_label=None)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = tenant_managers()
        self.fields["user"].error_messages["invalid_choice"] = _("Choose a manager of this company.")
        self.fields["user"].widget.attrs["class"] = "form-select form-select-sm"
