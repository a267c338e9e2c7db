"""The Pool page (公海): the pool's customers with a Claim button each and the member's quota;
claiming and releasing (thin over pool.actions)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from crm.tenancy.acting import ActionConflict
from crm.web.pagination import CappedCountPaginator
from customers.models import Customer
from pool import actions
from pool.listing import may_work_pool, pool_customers, pool_settings, quota_for

PAGE_SIZE = 50


def _open_pool(request):
    """The company's settings; 404 when its pool is off, 403 for roles that do not work it."""
    if getattr(request, "membership", None) is None:
        raise PermissionDenied
    settings = pool_settings(request.tenant)
    if not settings.pool_enabled:
        raise Http404(_("This company does not use the public pool."))
    if not may_work_pool(request.user):
        raise PermissionDenied(_("Only reps, managers and admins work the public pool."))
    return settings


@login_required
@require_GET
def pool(request):
    settings = _open_pool(request)
    paginator = CappedCountPaginator(pool_customers(), PAGE_SIZE, allow_empty_first_page=True)
    page = paginator.get_page(request.GET.get("page"))
    context = {
        "page_obj": page,
        "paginator": paginator,
        "object_list": page.object_list,
        "quota": quota_for(request.user, settings),
    }
    return render(request, "pool/pool.html", context)


@login_required
@require_POST
def claim(request, pk):
    _open_pool(request)
    if not pool_customers().filter(pk=pk).exists():
        messages.error(request, _("This customer is not in the pool any more."))
        return redirect("pool:list")
    try:
        customer = actions.claim_customer(pk, acting_user=request.user)
    except ActionConflict as conflict:
        messages.error(request, str(conflict))
        return redirect("pool:list")
    messages.success(request, _("%(name)s is now your customer.") % {"name": customer.name})
    return redirect("pool:list")


@login_required
@require_POST
def release(request, pk):
    if getattr(request, "membership", None) is None:
        raise PermissionDenied
    customer = get_object_or_404(Customer.objects.for_user(request.user, "view"), pk=pk)
    try:
        actions.release_customer(customer, acting_user=request.user)
    except ActionConflict as conflict:
        messages.error(request, str(conflict))
        return redirect(customer.get_absolute_url())
    messages.success(request, _("%(name)s is back in the public pool.") % {"name": customer.name})
    if Customer.objects.for_user(request.user, "view").filter(pk=pk).exists():
        return redirect(customer.get_absolute_url())
    return redirect("customers:list")
