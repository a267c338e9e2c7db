"""View mixins shared by every tenant-owned page.

Reads go through `Model.objects.for_user(user, action)`; writes through the
app's actions, called from each view's `perform(form)` with
`acting_user=request.user`. A record the user cannot see is a 404; one they
can see but not act on is a 403; an action's ValidationError or
ActionConflict becomes a form error.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Case, IntegerField, Value, When
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.utils.functional import cached_property
from django.views.generic import DetailView, FormView, ListView

from crm.exports import pages as exports
from crm.history.versions import changes_since
from crm.records.versions import VersionConflict
from crm.savedviews import lists as saved_views
from crm.tenancy.acting import ActionConflict
from crm.tenancy.roles import role_may
from crm.web import pagination
from crm.web.forms import add_errors
from crm.web.pagination import CappedCountPaginator

MAX_PAGE_SIZE = 100


def in_order(field: str, values) -> Case:
    """Sort a choice field in its declared order (urgent after high, not alphabetically)."""
    return Case(
        *[When(**{field: value}, then=Value(position)) for position, value in enumerate(values)],
        output_field=IntegerField(),
    )


def may(request, action: str, model) -> bool:
    """Whether the signed-in member's role allows `action` on some `model` records."""
    membership = getattr(request, "membership", None)
    return bool(membership) and role_may(membership.role, action, model._meta.model_name)


def same_rows(queryset, other) -> bool:
    """Whether two querysets of one model select the same rows (the same joins and conditions).

    A structural comparison of the WHERE trees: no SQL is compiled and nothing is run. A
    subquery compares unequal to any other, so a doubtful case answers False.
    """
    first, second = queryset.query, other.query
    return (
        first.model is second.model
        and first.where == second.where
        and first.alias_map.keys() == second.alias_map.keys()
        and first.distinct == second.distinct
        and not first.is_empty()
    )


def permitted_ids(user, model, rows, action: str, *, shown_as: str = "view", shown=None) -> set:
    """The pks among `rows` on which `user` may perform `action`: at most one query for a whole page.

    `rows` come from `model.objects.for_user(user, shown_as)` (perhaps narrowed); a caller
    asking for several actions passes that queryset as `shown` to build it once. When the
    user's rows for `action` are the same as for `shown_as` (an admin changing any customer
    they see), every row is permitted and nothing is asked of the database.
    """
    pks = [row.pk for row in rows]
    if not pks:
        return set()
    allowed = model.objects.for_user(user, action)
    if same_rows(allowed, model.objects.for_user(user, shown_as) if shown is None else shown):
        return set(pks)
    return set(allowed.filter(pk__in=pks).order_by().values_list("pk", flat=True))


class OrderedCountPaginator(CappedCountPaginator):
    """Counts the rows (up to the cap) in the list's own order: see RecordListView.count_in_default_order."""

    @cached_property
    def count(self) -> int:
        return self.object_list[: pagination.COUNT_CAP + 1].count()


class RestrictedQuerysetMixin(LoginRequiredMixin):
    """`queryset = Model.objects.for_user(user, action)`; other tenants' rows are a 404."""

    model = None
    action = "view"

    def get_queryset(self):
        return self.model.objects.for_user(self.request.user, self.action)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["can_add"] = may(self.request, "add", self.model)
        return context


class RecordObjectMixin(RestrictedQuerysetMixin):
    """Fetch one visible record, then require `action` on it (403 if visible but not allowed)."""

    def get_object(self, queryset=None):
        record = get_object_or_404(self.model.objects.for_user(self.request.user, "view"), pk=self.kwargs["pk"])
        if (
            self.action != "view"
            and not self.model.objects.for_user(self.request.user, self.action).filter(pk=record.pk).exists()
        ):
            raise PermissionDenied
        return record

    def may_on_object(self, action: str) -> bool:
        return self.model.objects.for_user(self.request.user, action).filter(pk=self.object.pk).exists()


class RecordListView(RestrictedQuerysetMixin, ListView):
    """A list with a django-filter FilterSet, whitelisted sorting and bounded page sizes."""

    paginator_class = CappedCountPaginator
    filterset_class = None
    sort_fields: dict[str, str] = {}  # ?sort=key (or -key) -> ORM field
    default_sort = None
    paginate_by = 25
    related = ()  # select_related: what each row shows
    # Row checkboxes and buttons: which rows of the page the user may change / delete.
    row_actions = {"change": "changeable_ids", "delete": "deletable_ids"}
    # True when an index walks all of a tenant's visible rows in the model's default ordering,
    # e.g. (tenant, name, id) WHERE deleted_at IS NULL. The capped count of an unfiltered list in
    # that order is then an index-only scan, where an unordered count reads the table's pages.
    count_in_default_order = False
    # The list header offers saved views (crm.savedviews): a list with a filter set has them.
    saved_views = True

    def get(self, request, *args, **kwargs):
        if exports.wants_export(request):  # the Export buttons: the same rows, as a file
            return exports.export_list(self)
        if opened := saved_views.opening(self):  # the default view, or a view picked by ?view=
            return opened
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        queryset = super().get_queryset().select_related(*self.related)
        if self.filterset_class:
            self.filterset = self.filterset_class(self.request.GET, queryset=queryset, request=self.request)
            queryset = self.filterset.qs if self.filterset.is_valid() else queryset.none()
        return queryset.order_by(*self.ordering_fields())

    def ordering_fields(self):
        sort = self.request.GET.get("sort") or self.default_sort or ""
        descending = sort.startswith("-")
        field = self.sort_fields.get(sort.lstrip("-"))
        if field is None:
            return self.model._meta.ordering
        self.current_sort = sort
        return [f"-{field}" if descending else field, "-pk" if descending else "pk"]

    def get_paginator(self, queryset, *args, **kwargs):
        if (
            self.count_in_default_order
            and list(queryset.query.order_by) == list(self.model._meta.ordering)
            and same_rows(queryset, self.model.objects.all())
        ):
            return OrderedCountPaginator(queryset, *args, **kwargs)
        return super().get_paginator(queryset, *args, **kwargs)

    def paginate_queryset(self, queryset, page_size):
        """A page past the end shows the last page, and a page number that is none the first
        (Paginator.get_page), rather than ListView's 404."""
        paginator = self.get_paginator(queryset, page_size, allow_empty_first_page=True)
        page = paginator.get_page(self.request.GET.get(self.page_kwarg))
        return paginator, page, page.object_list, page.has_other_pages()

    def get_paginate_by(self, queryset):
        try:
            size = int(self.request.GET.get("page_size", self.paginate_by))
        except ValueError:
            size = self.paginate_by
        return min(max(size, 1), MAX_PAGE_SIZE)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user, rows, shown = self.request.user, context["object_list"], None
        for action, name in self.row_actions.items():
            allowed = may(self.request, action, self.model)
            context[f"can_{action}_any"] = allowed
            if allowed and shown is None:
                shown = self.model.objects.for_user(user, self.action)
            context[name] = (
                permitted_ids(user, self.model, rows, action, shown_as=self.action, shown=shown) if allowed else set()
            )
        filterset = getattr(self, "filterset", None)
        context["filter"] = filterset
        context["is_filtered"] = bool(filterset) and any(self.request.GET.get(name) for name in filterset.filters)
        context["current_sort"] = getattr(self, "current_sort", "")
        # "id@version" of each row shown: bulk actions change only rows still as they were seen.
        context["seen_versions"] = ",".join(f"{row.pk}@{row.version}" for row in rows)
        query = self.request.GET.copy()
        query.pop("page", None)
        context["query_without_page"] = query.urlencode()
        context.update(saved_views.context(self))
        return context


class RecordDetailView(RecordObjectMixin, DetailView):
    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["can_change"] = self.may_on_object("change")
        context["can_delete"] = self.may_on_object("delete")
        return context


class RecordFormView(RestrictedQuerysetMixin, FormView):
    """Create or edit through an action; an action's ValidationError becomes form errors."""

    success_message = ""

    def form_valid(self, form):
        try:
            self.object = self.perform(form)
        except ValidationError as error:
            add_errors(form, error)
            return self.form_invalid(form)
        except ActionConflict as conflict:
            return self.on_conflict(form, conflict)
        if self.success_message:
            messages.success(self.request, self.success_message % {"name": self.object})
        return HttpResponseRedirect(self.get_success_url())

    def on_conflict(self, form, conflict):
        form.add_error(None, str(conflict))
        return self.form_invalid(form)

    def get_success_url(self):
        return self.object.get_absolute_url()


class RecordCreateView(RecordFormView):
    action = "add"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not may(request, "add", self.model):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


def _shown(value):
    """A value as the conflict box shows it (tags as a list, not a Python repr)."""
    return ", ".join(map(str, value)) if isinstance(value, list | tuple) else value


class RecordUpdateView(RecordObjectMixin, RecordFormView):
    """Edit a record. The form carries the version it was loaded with (hidden `version`); saving
    over a newer version shows what changed since, with everything typed kept, and lets the
    person save over it (the `overwrite` button names the version they were shown) or start again."""

    action = "change"

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.object = self.get_object()
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": self.object}

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        form.fields["version"] = forms.IntegerField(
            widget=forms.HiddenInput, initial=self.object.version, required=False, min_value=1, max_value=2**31 - 1
        )
        return form

    def form_valid(self, form):
        seen = form.cleaned_data.pop("version", None)
        overwrite = self.request.POST.get("overwrite", "")
        if overwrite.isascii() and overwrite.isdigit() and len(overwrite) < 10:
            seen = int(overwrite)  # the person saw the newer version on the conflict page and chose to save over it
        # Whatever the app's perform() calls ends in crm.records.actions.update, which refuses a stale version.
        self.object.seen_version = seen
        return super().form_valid(form)

    def on_conflict(self, form, conflict):
        if not isinstance(conflict, VersionConflict):
            return super().on_conflict(form, conflict)
        current = type(self.object).all_objects.get(pk=self.object.pk)
        changes = changes_since(current, conflict.seen)
        changed = {field.name: field for change in changes for field in change["fields"]}
        typed = form.cleaned_data
        fields = [
            {
                "label": field.verbose_name,
                "mine": _shown(typed.get(field.name)),
                "now": _shown(getattr(current, field.name)),
            }
            for name, field in changed.items()
            if name in form.fields
        ]
        form.add_error(None, str(conflict))
        context = self.get_context_data(form=form)
        context["version_conflict"] = {"changes": changes, "fields": fields, "current": current}
        return self.render_to_response(context, status=409)

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "object": self.object}
