"""Company settings (admins): how long the recycle bin keeps records, and legal hold."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from crm.bin_forms import TenantSettingsForm
from crm.permissions import TENANT_ADMIN_ROLES
from crm.tenancy.actions import update_tenant_settings
from crm.tenancy.models import Tenant
from crm.views_mixins import add_errors

SETTINGS_FIELDS = ("retention_days", "legal_hold")


def save_tenant_settings(tenant: Tenant, *, retention_days: int, legal_hold: bool) -> Tenant:
    """Validate and save the recycle-bin settings (audited), on a fresh copy of the tenant,
    so a refused change leaves the caller's tenant object as it was."""
    fresh = Tenant.objects.get(pk=tenant.pk)
    return update_tenant_settings(fresh, retention_days=retention_days, legal_hold=legal_hold)


@login_required
@require_http_methods(["GET", "POST"])
def company_settings(request):
    membership = getattr(request, "membership", None)
    if membership is None or membership.role not in TENANT_ADMIN_ROLES:
        return render(
            request,
            "recyclebin/problem.html",
            {
                "status": 403,
                "title": _("Not allowed"),
                "message": _("Only administrators may change company settings."),
            },
            status=403,
        )
    tenant = membership.tenant
    form = TenantSettingsForm(
        request.POST if request.method == "POST" else None,
        initial={name: getattr(tenant, name) for name in SETTINGS_FIELDS},
    )
    if form.is_bound and form.is_valid():
        try:
            save_tenant_settings(tenant, **form.cleaned_data)
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("The company settings were saved."))
            return redirect("company_settings")
    return render(request, "tenancy/settings.html", {"form": form, "tenant": tenant})
