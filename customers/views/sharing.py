"""Sharing a customer with colleagues: the Sharing card of the customer page, and its two POSTs.

The rule (owner, managers and admins share; only members; not with the owner) is
`customers.actions.share_customer` / `unshare_customer`; these views read the
customer through the restricting queryset (404 when not visible) and turn the
action's answers into messages (403 when not allowed).
"""

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from crm.tenancy.members import display_name, tenant_members
from customers import actions
from customers.models import Customer, CustomerShare


class ShareForm(forms.Form):
    user = forms.ModelChoiceField(queryset=None, label=gettext_lazy("Share with"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = tenant_members()


def sharing_section(request, customer) -> dict:
    """The Sharing card: who the customer is shared with, and (for those who may) whom it could be."""
    membership = getattr(request, "membership", None)
    can_share = membership is not None and actions.may_share(customer, request.user, membership.role)
    shares = list(CustomerShare.objects.filter(customer=customer).select_related("user").order_by("user__username"))
    candidates = []
    if can_share:
        taken = {share.user_id for share in shares} | {customer.owner_id}
        candidates = [member for member in tenant_members() if member.pk not in taken]
    return {
        "shares": [{"user_id": share.user_id, "name": display_name(share.user)} for share in shares],
        "can_share": can_share,
        "share_candidates": [{"id": member.pk, "name": display_name(member)} for member in candidates],
    }


def _visible_customer(request, pk):
    return get_object_or_404(Customer.objects.for_user(request.user, "view"), pk=pk)


def _back(customer):
    return redirect(customer.get_absolute_url() + "#sharing")


@login_required
@require_POST
def share(request, pk):
    customer = _visible_customer(request, pk)
    form = ShareForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a member of this company."))
        return _back(customer)
    user = form.cleaned_data["user"]
    try:
        actions.share_customer(customer, user, acting_user=request.user)  # PermissionDenied -> 403
    except ValidationError as error:
        for text in error.messages:
            messages.error(request, text)
    else:
        messages.success(request, _("%(name)s can now see this customer.") % {"name": display_name(user)})
    return _back(customer)


@login_required
@require_POST
def unshare(request, pk, user_id):
    customer = _visible_customer(request, pk)
    user = get_object_or_404(get_user_model(), pk=user_id)
    actions.unshare_customer(customer, user, acting_user=request.user)
    messages.success(request, _("This customer is no longer shared with %(name)s.") % {"name": display_name(user)})
    return _back(customer)
