"""Tasks over the API (see crm.api.viewsets.RecordViewSet)."""

from drf_spectacular.utils import extend_schema, extend_schema_view

from activities import actions
from activities.api.filters import TaskFilterSet
from activities.api.serializers import TaskSerializer
from activities.models import Task
from crm.api.viewsets import RecordViewSet

TAGS = ["tasks"]


@extend_schema_view(
    list=extend_schema(summary="List tasks", tags=TAGS),
    create=extend_schema(summary="Create a task", tags=TAGS),
    retrieve=extend_schema(summary="One task", tags=TAGS),
    update=extend_schema(summary="Replace a task", tags=TAGS),
    partial_update=extend_schema(summary="Change some fields of a task (done: true completes it)", tags=TAGS),
    destroy=extend_schema(tags=TAGS),
    bulk_delete=extend_schema(tags=TAGS),
    history=extend_schema(tags=TAGS),
    revert=extend_schema(tags=TAGS),
)
class TaskViewSet(RecordViewSet):
    """Tasks the user can see (reps: assigned to them, theirs, or on records they can see)."""

    model = Task
    serializer_class = TaskSerializer
    list_from_columns = True  # crm.api.listplan
    filterset_class = TaskFilterSet
    search_fields = ("title",)
    ordering_fields = ("due_at", "created_at", "updated_at", "priority", "title")

    def create_record(self, values):
        return actions.create_task(acting_user=self.request.user, **values)

    def update_record(self, record, values):
        return actions.update_task(record, acting_user=self.request.user, **values)
