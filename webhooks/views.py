"""Webhook pages (a company's administrators): list, detail with the delivery log, create, edit,
send a test, a new secret. Deleting goes through the recycle bin like any record."""

import copy

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from crm.web.mixins import RecordCreateView, RecordDetailView, RecordListView, RecordUpdateView, may
from webhooks import actions
from webhooks.forms import EndpointForm
from webhooks.models import Delivery, Endpoint, Preset

LOG_ROWS = 50
SHOWN_ONCE = "webhook-secret-%s"  # the session key holding a new secret until its page shows it


class AdminOnly:
    """Only a role with rights on webhooks (administrators) reaches these pages: others get a 403."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not may(request, "view", Endpoint):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class EndpointListView(AdminOnly, RecordListView):
    model = Endpoint
    template_name = "webhooks/endpoint_list.html"
    sort_fields = {"name": "name", "created_at": "created_at"}


class EndpointDetailView(AdminOnly, RecordDetailView):
    model = Endpoint
    template_name = "webhooks/endpoint_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["deliveries"] = Delivery.objects.filter(endpoint=self.object).order_by("-created_at", "-id")[:LOG_ROWS]
        context["new_secret"] = self.request.session.pop(SHOWN_ONCE % self.object.pk, "")
        context["generic"] = self.object.preset == Preset.GENERIC
        return context


class EndpointFormMixin(AdminOnly):
    model = Endpoint
    form_class = EndpointForm
    template_name = "webhooks/endpoint_form.html"


class EndpointCreateView(EndpointFormMixin, RecordCreateView):
    success_message = gettext_lazy("Webhook “%(name)s” created.")

    def get_initial(self):
        return {"language": getattr(self.request, "LANGUAGE_CODE", "en")}

    def perform(self, form):
        endpoint, secret = actions.create_endpoint(
            acting_user=self.request.user, **form.action_values(only_changed=False)
        )
        if secret:
            self.request.session[SHOWN_ONCE % endpoint.pk] = secret
        return endpoint


class EndpointUpdateView(EndpointFormMixin, RecordUpdateView):
    success_message = gettext_lazy("Webhook “%(name)s” saved.")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": copy.copy(self.object)}

    def perform(self, form):
        return actions.update_endpoint(
            self.object, acting_user=self.request.user, **form.action_values(only_changed=True)
        )


def _changeable(request, pk) -> Endpoint:
    if not may(request, "view", Endpoint):
        raise PermissionDenied
    return get_object_or_404(Endpoint.objects.for_user(request.user, "change"), pk=pk)


@login_required
@require_POST
def send_test(request, pk):
    endpoint = _changeable(request, pk)
    actions.send_test(endpoint, acting_user=request.user)
    messages.success(request, _("A test message is on its way; its delivery shows below."))
    return redirect(endpoint)


@login_required
@require_POST
def rotate_secret(request, pk):
    endpoint = _changeable(request, pk)
    try:
        request.session[SHOWN_ONCE % endpoint.pk] = actions.rotate_secret(endpoint, acting_user=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(endpoint)
    messages.success(request, _("The webhook has a new secret. Receivers need it from now on."))
    return redirect(endpoint)
