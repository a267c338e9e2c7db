"""Opportunity pages: list, pipeline board, detail, create, edit and "move to stage"."""

import copy

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, F, Sum
from django.db.models.expressions import Window
from django.db.models.functions import RowNumber
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods
from django.views.generic import ListView, View

from activities.actions import move_stage
from crm.records.versions import VersionConflict, changed_since_message, selection
from crm.tenancy.roles import TENANT_ADMIN_ROLES
from crm.web.forms import BootstrapFormMixin, add_errors
from crm.web.mixins import (
    RecordCreateView,
    RecordDetailView,
    RecordListView,
    RecordUpdateView,
    RestrictedQuerysetMixin,
    in_order,
    may,
)
from crm.web.redirects import safe_next
from customers.models import Customer
from sales import actions
from sales.filters import BoardFilter, OpportunityFilter
from sales.forms import BulkMoveForm, MoveForm, OpportunityForm
from sales.models import LostReason, Opportunity

# The board shows the newest cards of each stage; the list has the rest.
BOARD_CARDS_PER_STAGE = 50

STAGE_ORDER = in_order("stage", Opportunity.Stage.values)


class OpportunityPermissionMixin:
    """Roles that may not read opportunities at all (support) get a 403 on every page."""

    model = Opportunity

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not may(request, "view", Opportunity):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class OpportunityListView(OpportunityPermissionMixin, RecordListView):
    template_name = "sales/opportunity_list.html"
    filterset_class = OpportunityFilter
    sort_fields = {
        "name": "name",
        "amount": "amount",
        "stage": "stage",
        "expected_close_date": "expected_close_date",
        "owner": "owner__username",
        "customer": "customer__name",
    }

    def get_queryset(self):
        return super().get_queryset().select_related("customer", "owner")

    def ordering_fields(self):
        """Stages sort in pipeline order, not alphabetically."""
        fields = []
        for field in super().ordering_fields():
            if field == "stage":
                fields.append(STAGE_ORDER.asc())
            elif field == "-stage":
                fields.append(STAGE_ORDER.desc())
            else:
                fields.append(field)
        return fields

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["today"] = timezone.localdate()
        context["stages"] = Opportunity.Stage.choices
        return context


class PipelineBoardView(OpportunityPermissionMixin, RestrictedQuerysetMixin, ListView):
    """One column per stage: count and totals per currency over all deals, the newest cards."""

    template_name = "sales/pipeline_board.html"
    cards_per_stage = BOARD_CARDS_PER_STAGE

    def get_queryset(self):
        queryset = super().get_queryset()
        self.filterset = BoardFilter(self.request.GET, queryset=queryset, request=self.request)
        return self.filterset.qs if self.filterset.is_valid() else queryset.none()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        opportunities = self.object_list
        cards = list(
            opportunities.annotate(
                stage_rank=Window(
                    RowNumber(), partition_by=[F("stage")], order_by=[F("created_at").desc(), F("id").desc()]
                )
            )
            .filter(stage_rank__lte=self.cards_per_stage)
            .select_related("customer", "owner")
            .order_by("-created_at", "-id")
        )
        changeable = set(
            Opportunity.objects.for_user(self.request.user, "change")
            .filter(pk__in=[card.pk for card in cards])
            .order_by()
            .values_list("pk", flat=True)
        )
        totals = opportunities.order_by().values("stage", "currency").annotate(count=Count("id"), total=Sum("amount"))
        columns = {
            stage: {"stage": stage, "label": label, "count": 0, "totals": [], "cards": []}
            for stage, label in Opportunity.Stage.choices
        }
        for row in sorted(totals, key=lambda row: row["currency"]):
            column = columns[row["stage"]]
            column["count"] += row["count"]
            column["totals"].append({"currency": row["currency"], "amount": row["total"]})
        for card in cards:
            card.can_change = card.pk in changeable
            columns[card.stage]["cards"].append(card)
        for column in columns.values():
            column["hidden"] = column["count"] - len(column["cards"])
        context.update(
            columns=list(columns.values()),
            stages=Opportunity.Stage.choices,
            filter=self.filterset,
            board_query=self.request.GET.urlencode(),
            can_change_any=may(self.request, "change", Opportunity),
            lost_reasons=list(LostReason.objects.values_list("label", flat=True)),
            today=timezone.localdate(),
        )
        return context


class OpportunityDetailView(OpportunityPermissionMixin, RecordDetailView):
    template_name = "sales/opportunity_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.setdefault(
            "move_form", MoveForm(initial={"stage": self.object.stage, "version": self.object.version}, prefix="move")
        )
        context["stages"] = Opportunity.Stage.choices
        context["stage_position"] = Opportunity.Stage.values.index(self.object.stage)
        return context


class OpportunityMoveView(OpportunityDetailView):
    """POST stage (and lost_reason): the board's drag and drop, its "Move to…" forms, the detail page."""

    action = "change"
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        self.object = self.get_object()
        # The board posts unprefixed fields; the detail page's form is prefixed "move".
        form = MoveForm(request.POST, prefix="move" if "move-stage" in request.POST else None)
        if form.is_valid():
            seen = form.cleaned_data.pop("version")
            try:
                # With the optional "add a follow-up task", in the same transaction.
                move_stage(
                    self.object,
                    acting_user=request.user,
                    expected_version=seen,
                    **form.follow_up_values(),
                    **form.cleaned_data,
                )
            except ValidationError as error:
                add_errors(form, error)
            except VersionConflict:
                # Show the board (or page) as it is now, saying why nothing moved.
                messages.warning(
                    request,
                    _("“%(name)s” changed since you loaded the page and was not moved; it is shown as it is now.")
                    % {"name": self.object.name},
                )
                return HttpResponseRedirect(safe_next(request, self.object.get_absolute_url()))
            else:
                messages.success(
                    request,
                    _("“%(name)s” moved to %(stage)s.")
                    % {"name": self.object.name, "stage": self.object.get_stage_display()},
                )
                return HttpResponseRedirect(safe_next(request, self.object.get_absolute_url()))
        self.object.refresh_from_db()
        context = self.get_context_data(object=self.object, move_form=form)
        return self.render_to_response(context, status=400)


class OpportunityFormMixin(OpportunityPermissionMixin):
    form_class = OpportunityForm
    template_name = "sales/opportunity_form.html"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}


class OpportunityCreateView(OpportunityFormMixin, RecordCreateView):
    success_message = gettext_lazy("Opportunity “%(name)s” created.")

    def get_initial(self):
        # No probability: an empty one follows the chosen stage.
        initial = {
            "owner": self.request.user.pk,
            "stage": Opportunity.Stage.LEAD,
            "currency": "CNY",
            "probability": None,
        }
        customer = preselected_customer(self.request, "change")
        if customer is not None:
            initial["customer"] = customer.pk
        return initial

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["preselected_customer"] = preselected_customer(self.request, "change")
        return context

    def perform(self, form):
        values = form.action_values(only_changed=False)
        customer = values.pop("customer")
        return actions.create_opportunity(customer, acting_user=self.request.user, **values)


class OpportunityUpdateView(OpportunityFormMixin, RecordUpdateView):
    success_message = gettext_lazy("Opportunity “%(name)s” saved.")

    def get_form_kwargs(self):
        # The form validates a copy: the action compares against the record as stored.
        return {**super().get_form_kwargs(), "instance": copy.copy(self.object)}

    def perform(self, form):
        return actions.update_opportunity(
            self.object, acting_user=self.request.user, **form.action_values(only_changed=True)
        )


def preselected_customer(request, action: str):
    """The customer named by ?customer=<pk>, if the user may use it; garbage is ignored."""
    if not hasattr(request, "_preselected_customer"):
        raw = request.GET.get("customer", "")
        customer = None
        if raw.isdigit() and len(raw) < 19:
            customer = Customer.objects.for_user(request.user, action).filter(pk=int(raw)).first()
        request._preselected_customer = customer
    return request._preselected_customer


class LostReasonsForm(BootstrapFormMixin, forms.Form):
    labels = forms.CharField(
        label=gettext_lazy("Lost reasons, one per line"),
        required=False,
        max_length=3000,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=gettext_lazy("Offered when a deal is lost, besides free text. Closed deals keep their reason."),
    )


@login_required
@require_http_methods(["GET", "POST"])
def lost_reasons(request):
    """Admins: the company's short list of reasons to lose a deal (a company setting)."""
    if getattr(request.membership, "role", None) not in TENANT_ADMIN_ROLES:
        raise PermissionDenied(_("Only administrators may change company settings."))
    current = "\n".join(LostReason.objects.values_list("label", flat=True))
    form = LostReasonsForm(request.POST if request.method == "POST" else None, initial={"labels": current})
    if form.is_bound and form.is_valid():
        try:
            actions.set_lost_reasons(form.cleaned_data["labels"].splitlines(), acting_user=request.user)
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("The lost reasons were saved."))
            return redirect("sales:lost_reasons")
    return render(request, "sales/lost_reasons.html", {"form": form})


class OpportunityBulkMoveView(LoginRequiredMixin, OpportunityPermissionMixin, View):
    """The list's "Move selected to": only the selected deals still as the page showed them move."""

    http_method_names = ["post"]

    def post(self, request):
        if not may(request, "change", Opportunity):
            raise PermissionDenied
        back = safe_next(request, "sales:list")
        form = BulkMoveForm(request.POST)
        if not form.is_valid():
            for errors in form.errors.values():
                for error in errors:
                    messages.error(request, error)
            return redirect(back)
        ids, stage = form.cleaned_data["ids"], form.cleaned_data["stage"]
        try:
            seen = selection(ids, request.POST.getlist("seen"))
        except ValueError:
            messages.error(request, _("The page sent versions that are not versions; reload it and try again."))
            return redirect(back)
        stale = seen.changed_since(Opportunity)
        try:
            moved = actions.bulk_move_opportunities(
                seen.narrow(Opportunity.objects.for_user(request.user, "change")), stage, acting_user=request.user
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect(back)
        label = Opportunity.Stage(stage).label
        messages.success(
            request,
            ngettext("%(count)s opportunity moved to %(stage)s.", "%(count)s opportunities moved to %(stage)s.", moved)
            % {"count": moved, "stage": label},
        )
        if stale:
            messages.warning(request, changed_since_message(len(stale)))
        return redirect(back)
