"""The signed-in person's own pages (switch company, language, preferences) and the company settings."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import user_has_device

from crm.tenancy import account_actions, actions
from crm.tenancy.forms import PreferencesForm, TenantSettingsForm
from crm.tenancy.middleware import (
    SESSION_LANGUAGE_KEY,
    SESSION_PASSWORD_CHANGE_KEY,
    SESSION_TENANT_KEY,
    SESSION_TIME_ZONE_KEY,
)
from crm.tenancy.models import Membership, UserPreference
from crm.tenancy.roles import TENANT_ADMIN_ROLES
from crm.tenancy.signin import locked_users
from crm.web.forms import add_errors
from crm.web.redirects import safe_next

User = get_user_model()


@login_required
@require_POST
def switch_tenant(request):
    membership = (
        Membership.objects.select_related("tenant")
        .filter(user=request.user, tenant__slug=request.POST.get("tenant"), is_active=True)
        .first()
    )
    if membership is None:
        messages.error(request, _("You are not a member of that company."))
    else:
        request.session[SESSION_TENANT_KEY] = membership.tenant_id
        messages.success(request, _("You are now working in %(tenant)s.") % {"tenant": membership.tenant.name})
    return redirect("dashboard")


@require_POST
def set_language(request):
    """Switch the interface language; remembered for the user when signed in."""
    language = request.POST.get("language", "")
    response = HttpResponseRedirect(safe_next(request, fallback="login"))
    if language not in dict(settings.LANGUAGES):
        return response
    request.session[SESSION_LANGUAGE_KEY] = language
    response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language, samesite="Lax", secure=settings.SESSION_COOKIE_SECURE)
    if request.user.is_authenticated:
        preference = UserPreference.objects.filter(user=request.user).first()
        time_zone = preference.time_zone if preference else ""
        actions.save_preferences(request.user, acting_user=request.user, language=language, time_zone=time_zone)
    translation.activate(language)
    return response


@login_required
def preferences(request):
    preference = UserPreference.objects.filter(user=request.user).first()
    initial = {
        "language": (preference and preference.language) or translation.get_language(),
        "time_zone": (preference and preference.time_zone) or settings.TIME_ZONE,
    }
    form = PreferencesForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        actions.save_preferences(request.user, acting_user=request.user, **form.cleaned_data)
        request.session[SESSION_LANGUAGE_KEY] = form.cleaned_data["language"]
        request.session[SESSION_TIME_ZONE_KEY] = form.cleaned_data["time_zone"]
        translation.activate(form.cleaned_data["language"])
        messages.success(request, _("Your preferences were saved."))
        return redirect("tenancy:preferences")
    context = {"form": form, "has_mfa": user_has_device(request.user)}
    return render(request, "tenancy/preferences.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def company_settings(request):
    """Admins: how long the recycle bin keeps records, and legal hold."""
    membership = request.membership
    if membership is None or membership.role not in TENANT_ADMIN_ROLES:
        raise PermissionDenied(_("Only administrators may change company settings."))
    tenant = membership.tenant
    form = TenantSettingsForm(
        request.POST if request.method == "POST" else None,
        initial={name: getattr(tenant, name) for name in actions.SETTINGS_FIELDS},
    )
    if form.is_bound and form.is_valid():
        try:
            values = {name: value for name, value in form.cleaned_data.items() if value is not None}
            actions.update_tenant_settings(tenant, acting_user=request.user, **values)
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("The company settings were saved."))
            return redirect("company_settings")
    locked = locked_users(list(User.objects.filter(memberships__tenant=tenant).order_by("username")))
    return render(request, "tenancy/settings.html", {"form": form, "tenant": tenant, "locked_members": locked})


@login_required
@require_POST
def clear_member_lock(request, user_id):
    """Admins: let a member of the company sign in again now."""
    member = get_object_or_404(User, pk=user_id, memberships__tenant=request.tenant)
    account_actions.clear_lockout(member, acting_user=request.user)
    messages.success(request, _("%(user)s may sign in again.") % {"user": member.get_username()})
    return redirect("company_settings")


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's view: this session stays signed in, the person's other sessions end."""

    def get_success_url(self):
        return reverse("tenancy:preferences")

    def form_valid(self, form):
        self.request.session.pop(SESSION_PASSWORD_CHANGE_KEY, None)
        messages.success(self.request, _("Your password was changed. Your other sessions have ended."))
        return super().form_valid(form)
