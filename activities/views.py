"""Task pages: list, My tasks, detail, create, edit and one-click done (htmx); notification pages."""

import copy

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import F
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import FormView, ListView

from activities import actions
from activities.dashboard import PARENT_RELATIONS
from activities.filters import TaskFilter
from activities.forms import EmailPreferencesForm, TaskForm
from activities.models import PARENTS, Notification, NotificationPreference, Task
from crm.records.registry import record_models
from crm.tenancy.acting import ActionConflict
from crm.web.dashboard import end_of_today
from crm.web.mixins import RecordCreateView, RecordDetailView, RecordListView, RecordObjectMixin, RecordUpdateView
from crm.web.redirects import safe_next

RELATED = ("assignee", *PARENT_RELATIONS)


class TaskListView(RecordListView):
    model = Task
    template_name = "activities/task_list.html"
    filterset_class = TaskFilter
    related = RELATED
    sort_fields = {"title": "title", "due_at": "due_at", "priority": "priority", "assignee": "assignee__username"}

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "now": timezone.now()}


class MyTasksView(TaskListView):
    """My open tasks: overdue first, then today and upcoming (no due time last)."""

    template_name = "activities/my_tasks.html"
    filterset_class = None

    def get_queryset(self):
        return super().get_queryset().filter(assignee=self.request.user, done=False)

    def ordering_fields(self):
        return [F("due_at").asc(nulls_last=True), "id"]

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "end_of_today": end_of_today()}


def parent_from_query(request):
    """The record named by ?customer=, ?contact=, ?opportunity= or ?ticket=, if the user may see it."""
    if not hasattr(request, "_task_parent"):
        request._task_parent = None
        models = record_models()
        for name in PARENTS:
            raw = request.GET.get(name, "")
            if raw.isdigit() and len(raw) < 19:
                request._task_parent = models[name].objects.for_user(request.user, "view").filter(pk=int(raw)).first()
                break
    return request._task_parent


class TaskFormMixin:
    model = Task
    form_class = TaskForm
    template_name = "activities/task_form.html"

    def parent(self):
        return (getattr(self, "object", None) and self.object.parent) or parent_from_query(self.request)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user, "parent": self.parent()}

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "parent": self.parent()}


class TaskCreateView(TaskFormMixin, RecordCreateView):
    success_message = gettext_lazy("Task “%(name)s” created.")

    def get_initial(self):
        initial = {"assignee": self.request.user.pk, "priority": Task.Priority.NORMAL}
        parent = self.parent()
        if parent is not None and parent._meta.model_name == "customer":
            initial["customer"] = parent.pk
        return initial

    def perform(self, form):
        values = form.action_values(only_changed=False)
        parent = self.parent()
        if parent is not None and "customer" not in form.fields:
            values[parent._meta.model_name] = parent
        return actions.create_task(acting_user=self.request.user, **values)


class TaskUpdateView(TaskFormMixin, RecordUpdateView):
    success_message = gettext_lazy("Task “%(name)s” saved.")

    def get_form_kwargs(self):
        # The form validates a copy: the action compares against the task as stored.
        return {**super().get_form_kwargs(), "instance": copy.copy(self.object)}

    def perform(self, form):
        return actions.update_task(self.object, acting_user=self.request.user, **form.action_values(only_changed=True))


class TaskDetailView(RecordDetailView):
    model = Task
    template_name = "activities/task_detail.html"

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "now": timezone.now()}


class TaskDoneView(RecordObjectMixin, ListView):
    """POST done=1 (or 0): complete or reopen; htmx gets the task's row back, a form the page it came from."""

    model = Task
    action = "change"
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        task = self.get_object()
        done = request.POST.get("done", "1") != "0"
        try:
            task = (actions.complete_task if done else actions.reopen_task)(task, acting_user=request.user)
        except (ValidationError, ActionConflict) as error:
            messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
        else:
            text = _("“%(name)s” is done.") if done else _("“%(name)s” is open again.")
            messages.success(request, text % {"name": task.title})
        if request.htmx:
            row = Task.objects.for_user(request.user).select_related(*RELATED).get(pk=task.pk)
            context = {"task": row, "now": timezone.now(), "changeable_ids": {task.pk}}
            return render(request, "activities/_task_row.html", context)
        return HttpResponseRedirect(safe_next(request, task.get_absolute_url()))


# -- notifications -----------------------------------------------------------------------------------


class MemberRequiredMixin(LoginRequiredMixin):
    """Notifications are per company: a signed-in user who is not a member here gets a 403."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not getattr(request, "membership", None):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class NotificationListView(MemberRequiredMixin, ListView):
    template_name = "activities/notification_list.html"
    paginate_by = 25

    def get_queryset(self):
        return Notification.objects.filter(user=self.request.user).order_by("-created_at", "-id")

    def paginate_queryset(self, queryset, page_size):
        paginator = self.get_paginator(queryset, page_size, allow_empty_first_page=True)
        page = paginator.get_page(self.request.GET.get("page"))
        return paginator, page, page.object_list, page.has_other_pages()


class MarkReadView(MemberRequiredMixin, ListView):
    """POST: one notification (?id=), or all of mine; then back to where it was pressed."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        chosen = Notification.objects.filter(user=request.user)
        raw = request.POST.get("id", "")
        if raw:
            chosen = chosen.filter(pk=int(raw)) if raw.isdigit() and len(raw) < 19 else chosen.none()
        count = actions.mark_read(chosen, acting_user=request.user)
        if not raw:
            messages.success(request, _("All notifications are marked read.") if count else _("Nothing was unread."))
        target = request.POST.get("open", "")
        fallback = target if target.startswith("/") and not target.startswith("//") else reverse("notifications:list")
        return HttpResponseRedirect(safe_next(request, fallback))


class NotificationPreferencesView(MemberRequiredMixin, FormView):
    template_name = "activities/notification_preferences.html"
    form_class = EmailPreferencesForm
    success_url = reverse_lazy("notifications:preferences")

    def get_initial(self):
        chosen = NotificationPreference.objects.filter(user=self.request.user, email=True)
        return {"email": list(chosen.values_list("kind", flat=True))}

    def form_valid(self, form):
        actions.set_email_preferences(form.cleaned_data["email"], acting_user=self.request.user)
        messages.success(self.request, _("Your notification preferences are saved."))
        return super().form_valid(form)
