"""Forms of Company settings -> People and of the invitation link."""

from django import forms
from django.utils.translation import gettext_lazy as _

from crm.tenancy.roles import Role
from crm.web.forms import BootstrapFormMixin


class InviteForm(BootstrapFormMixin, forms.Form):
    email = forms.EmailField(label=_("Email"), help_text=_("A one-time link to join goes to this address."))
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.VIEWER)

    prefix = "invite"


class NewMemberForm(BootstrapFormMixin, forms.Form):
    """For people without email: an account with a temporary password, shown once to the admin."""

    username = forms.CharField(label=_("Username"), max_length=150)
    email = forms.EmailField(label=_("Email"), required=False, help_text=_("Optional."))
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.VIEWER)

    prefix = "new"


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)


class AcceptInvitationForm(BootstrapFormMixin, forms.Form):
    """A new account for the invited person: a username and a password, typed twice."""

    username = forms.CharField(label=_("Username"), max_length=150)
    password = forms.CharField(label=_("Password"), strip=False, widget=forms.PasswordInput(render_value=True))
    password_again = forms.CharField(
        label=_("Password again"), strip=False, widget=forms.PasswordInput(render_value=True)
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("password") and cleaned.get("password") != cleaned.get("password_again"):
            self.add_error("password_again", _("The two passwords differ."))
        return cleaned
