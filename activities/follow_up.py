"""The "add a follow-up task" fields that Log a call and Move stage carry (customers and sales forms).

Both optional; a due time needs a title. The view hands `follow_up_values()` to
activities.actions.log_call / move_stage, which create the task in the same
transaction as the interaction or the stage change.
"""

from django import forms
from django.utils.translation import gettext_lazy as _

from crm.web.forms import DateTimeInput

FIELDS = ("follow_up_title", "follow_up_due_at")


class FollowUpFields(forms.Form):
    follow_up_title = forms.CharField(
        label=_("Follow-up task"),
        max_length=200,
        required=False,
        help_text=_("Optional: a task for you, created in the same step."),
    )
    follow_up_due_at = forms.DateTimeField(label=_("Follow-up due"), required=False, widget=DateTimeInput())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if getattr(getattr(self, "instance", None), "pk", None):  # an edit is not a new step
            for name in FIELDS:
                del self.fields[name]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("follow_up_due_at") and not (cleaned.get("follow_up_title") or "").strip():
            self.add_error("follow_up_title", _("Give the follow-up task a title."))
        return cleaned

    def follow_up_values(self) -> dict:
        """The follow-up's values, taken out of cleaned_data (the rest is the record's)."""
        return {name: self.cleaned_data.pop(name, None) for name in FIELDS}
