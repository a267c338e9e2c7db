"""Form helpers shared by every app: Bootstrap classes and error styling."""

import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, ProhibitNullCharactersValidator
from django.utils import timezone

from crm.tenancy.members import display_name, tenant_members


class BootstrapFormMixin:
    """Gives every widget its Bootstrap class and marks invalid fields."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput | forms.CheckboxSelectMultiple | forms.RadioSelect):
                css = "form-check-input"
            elif isinstance(widget, forms.Select | forms.SelectMultiple):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                widget.attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid".strip()
                widget.attrs["aria-invalid"] = "true"


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class DatalistInput(forms.TextInput):
    """A text box suggesting its field's choices as you type (<datalist>): a searchable select, no script."""

    template_name = "widgets/datalist.html"

    def __init__(self, attrs=None):
        super().__init__({"autocomplete": "off", "spellcheck": "false", **(attrs or {})})
        self.choices = []  # a ChoiceField sets its own

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        widget = context["widget"]
        widget["attrs"]["list"] = f"{widget['attrs'].get('id') or name}-choices"
        widget["suggestions"] = [choice for choice, _label in self.choices]
        return context


class TagsField(forms.CharField):
    """Comma-separated tags <-> a list of distinct, trimmed strings."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def prepare_value(self, value):
        return ", ".join(value) if isinstance(value, list | tuple) else value

    def to_python(self, value):
        text = super().to_python(value) or ""
        if "\x00" in text:  # the NUL validator of CharField would only see the list
            raise forms.ValidationError(ProhibitNullCharactersValidator.message, code="null_characters_not_allowed")
        tags = []
        for tag in (part.strip() for part in text.replace("，", ",").split(",")):
            if tag and tag not in tags:
                tags.append(tag[:50])
        return tags


class OneQueryChoices(forms.models.ModelChoiceIterator):
    """Choices read with one plain query, for short lists such as a company's members (Django's
    iterator opens a server-side cursor: DECLARE, FETCH and CLOSE for a dozen rows)."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for row in self.queryset:
            yield self.choice(row)


class MemberChoiceField(forms.ModelChoiceField):
    """A user of the active tenant (owner, assignee)."""

    iterator = OneQueryChoices

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(queryset=tenant_members(), **kwargs)

    def label_from_instance(self, user):
        return display_name(user)


def member_field(**kwargs) -> MemberChoiceField:
    """A member choice built per request, styled like the fields BootstrapFormMixin styled."""
    field = MemberChoiceField(**kwargs)
    field.widget.attrs["class"] = "form-select"
    return field


def add_errors(form, error: ValidationError) -> None:
    """Attach an action's ValidationError to the form, field by field where possible."""
    if hasattr(error, "error_dict"):
        for field, field_errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, field_errors)
    else:
        form.add_error(None, error)


# Dates outside this range cannot be turned into a time zone-aware bound safely ("until" is the
# start of the next day; 9999-12-31 has none): filters by day refuse them as a form error.
EARLIEST = datetime.date(1900, 1, 1)
LATEST = datetime.date(9998, 12, 31)
DATE_VALIDATORS = [MinValueValidator(EARLIEST), MaxValueValidator(LATEST)]


def start_of(day: datetime.date) -> datetime.datetime:
    """Midnight at the start of `day` in the user's time zone."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
