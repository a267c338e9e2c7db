"""API token pages: Preferences -> API tokens (one's own) and Company settings -> API tokens (admins).

A new key is rendered in the response that created it and nowhere else: no
redirect, no session, and the page is not cached.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from crm.tenancy import actions
from crm.tenancy.forms import ApiTokenForm
from crm.tenancy.models import ApiToken
from crm.tenancy.roles import TENANT_ADMIN_ROLES
from crm.web.forms import add_errors
from crm.web.redirects import safe_next


def _my_tokens_page(request, form, new_token=None):
    tokens = ApiToken.objects.for_user(request.user).select_related("user")
    context = {"form": form, "tokens": tokens, "new_token": new_token}
    return render(request, "tenancy/tokens.html", context)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def my_tokens(request):
    form = ApiTokenForm(request.POST if request.method == "POST" else None)
    new_token = None
    if form.is_bound and form.is_valid():
        try:
            new_token = actions.create_api_token(
                request.membership.tenant, request.user, acting_user=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            form = ApiTokenForm()
    return _my_tokens_page(request, form, new_token)


@never_cache
@login_required
@require_POST
def rotate_token(request, pk):
    token = get_object_or_404(ApiToken.objects.for_user(request.user), pk=pk)
    try:
        new_token = actions.rotate_api_token(token, acting_user=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("tenancy:tokens")
    return _my_tokens_page(request, ApiTokenForm(), new_token)


@login_required
@require_POST
def revoke_token(request, pk):
    token = get_object_or_404(ApiToken.objects.for_user(request.user, everyone=True), pk=pk)
    actions.revoke_api_token(token, acting_user=request.user)
    messages.success(request, _("The API token “%(name)s” was revoked.") % {"name": token.name})
    return redirect(safe_next(request, fallback="tenancy:tokens"))


@login_required
def company_tokens(request):
    """Admins: every API token of the company, to revoke any of them."""
    membership = request.membership
    if membership is None or membership.role not in TENANT_ADMIN_ROLES:
        raise PermissionDenied(_("Only administrators may see the company's API tokens."))
    tokens = ApiToken.objects.for_user(request.user, everyone=True).select_related("user")
    return render(request, "tenancy/company_tokens.html", {"tokens": tokens, "tenant": membership.tenant})
