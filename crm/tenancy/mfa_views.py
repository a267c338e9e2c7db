"""The two-factor pages: enrolment (from Preferences), the code after the password, turning it off."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp import user_has_device

from crm.tenancy import account_actions
from crm.tenancy.mfa import manual_key, pending_totp, qr_svg, required_by_company
from crm.web.forms import BootstrapFormMixin, add_errors
from crm.web.redirects import safe_next


class CodeForm(BootstrapFormMixin, forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Code"),
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True, "inputmode": "text"}),
    )


def _unverified(request) -> bool:
    """Signed in with the password only while an authenticator is set up: its code comes first."""
    return user_has_device(request.user) and not request.user.is_verified()


@login_required
def setup(request):
    """Show a new key (QR code and typed), and turn two-factor on with the app's first code."""
    if _unverified(request):
        return redirect("tenancy:mfa_verify")
    device = pending_totp(request.user)
    if device is None or request.method == "GET":
        device = account_actions.start_totp_enrolment(request.user, acting_user=request.user)
    form = CodeForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            codes = account_actions.confirm_totp(device, form.cleaned_data["code"], acting_user=request.user)
        except ValidationError as error:
            add_errors(form, error)
        else:
            otp_login(request, device)
            return render(
                request, "tenancy/mfa_codes.html", {"codes": codes, "next": safe_next(request, fallback="dashboard")}
            )
    context = {"form": form, "qr": qr_svg(device), "key": manual_key(device), "next": request.GET.get("next", "")}
    return render(request, "tenancy/mfa_setup.html", context)


@login_required
def verify(request):
    """The second step of signing in: a code from the app, or a recovery code."""
    form = CodeForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        device = account_actions.verify_second_factor(request.user, form.cleaned_data["code"], acting_user=request.user)
        if device is not None:
            otp_login(request, device)
            return redirect(safe_next(request, fallback="dashboard"))
        form.add_error("code", _("That code is not right, or was used already. Wait for the next code and try again."))
    return render(request, "tenancy/mfa_verify.html", {"form": form})


@login_required
@require_POST
def disable(request):
    if _unverified(request):
        return redirect("tenancy:mfa_verify")
    if required_by_company(request.memberships):
        messages.error(request, _("Your company requires two-factor sign-in: you can set up a new app instead."))
    elif user_has_device(request.user):
        account_actions.disable_mfa(request.user, acting_user=request.user)
        messages.success(request, _("Two-factor sign-in is off."))
    return redirect("tenancy:preferences")
