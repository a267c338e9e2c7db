"""Task pages: the generic page contract, My tasks, one-click done (htmx) and the dashboard panel."""

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from activities.models import Task
from crm.recyclebin import actions as recyclebin
from crm.tenancy.context import activate
from tests.conftest import login
from tests.contracts import RecordPagesContract
from tests.trail import Trail


class TestTaskPages(RecordPagesContract):
    record_type = "task"
    list_url = "tasks:list"
    detail_url = "tasks:detail"
    create_url = "tasks:create"
    edit_url = "tasks:edit"
    text_field = "title"
    kept_field = "notes"
    roles_that_add = ("admin", "manager", "rep", "support")
    roles_that_change = ("admin", "manager")

    def valid_data(self, records) -> dict:
        return {
            "title": "Send the quote",
            "customer": records.customer().pk,
            "due_at": "2027-01-15T09:30",
            "remind_before": "60",
            "priority": "high",
            "assignee": records.actor.pk,
            "notes": "With the new prices.",
        }


def test_a_task_on_a_ticket_is_created_from_the_ticket(records, admin_user):
    ticket = records.ticket()
    client = login(admin_user)
    url = reverse("tasks:create") + f"?ticket={ticket.pk}"
    page = client.get(url).content.decode()
    assert 'data-testid="task-parent"' in page and ticket.subject in page
    response = client.post(url, {"title": "Ring the customer", "priority": "normal", "assignee": admin_user.pk})
    assert response.status_code == 302, response.content.decode()[:2000]
    task = Task.all_objects.get(title="Ring the customer")
    assert task.ticket_id == ticket.pk and task.customer_id is None and task.created_by == admin_user


def test_the_early_reminder_is_scheduled_from_the_due_time(records, admin_user):
    due = timezone.now() + timedelta(days=1)
    task = records.task(due_at=due, remind_before=60)
    assert task.remind_at == due - timedelta(hours=1)
    with activate(records.tenant, user=admin_user):
        from activities.actions import update_task

        update_task(task, remind_before=None, acting_user=admin_user)
    task.refresh_from_db()
    assert task.remind_at is None


def test_my_tasks_lists_my_open_tasks_overdue_highlighted(records, admin_user):
    overdue = records.task(title="Late one", due_at=timezone.now() - timedelta(hours=2))
    later = records.task(title="Later one", due_at=timezone.now() + timedelta(days=3))
    records.task(title="Finished one", done=True)
    response = login(admin_user).get(reverse("tasks:mine"))
    assert [task.title for task in response.context["object_list"]] == ["Late one", "Later one"]
    page = response.content.decode()
    assert f'data-id="{overdue.pk}" class="table-danger"' in page
    assert f'data-id="{later.pk}" class=""' in page


def test_complete_from_the_list_with_htmx_returns_the_row(records, admin_user):
    task = records.task(title="Click me")
    client = login(admin_user)
    with Trail(records.tenant) as trail:
        response = client.post(reverse("tasks:done", args=[task.pk]), {"done": "1"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    row = response.content.decode()
    assert row.lstrip().startswith("<tr") and 'data-testid="reopen-task"' in row
    task.refresh_from_db()
    assert task.done and task.completed_at is not None
    assert trail.events == [("update", "task", str(task.pk))]
    assert trail.versions == [("task", task.pk, "~", "edited")]
    # Without htmx it is a form post back to the page it came from.
    response = client.post(reverse("tasks:done", args=[task.pk]), {"done": "0", "next": reverse("tasks:list")})
    assert response.status_code == 302 and response.url == reverse("tasks:list")
    task.refresh_from_db()
    assert not task.done and task.completed_at is None


def test_a_viewer_cannot_complete(records, member_client):
    task = records.task()
    viewer = member_client("viewer")
    assert viewer.post(reverse("tasks:done", args=[task.pk]), {"done": "1"}).status_code == 403
    task.refresh_from_db()
    assert not task.done


def test_the_dashboard_shows_my_tasks_in_a_constant_number_of_queries(records, admin_user):
    client = login(admin_user)
    records.task(title="Overdue task", due_at=timezone.now() - timedelta(hours=1))
    client.get(reverse("dashboard"))
    with CaptureQueriesContext(connection) as few:
        page = client.get(reverse("dashboard")).content.decode()
    assert 'data-testid="my-tasks-panel"' in page and "Overdue task" in page
    assert 'data-testid="my-tasks-overdue"' in page
    for _ in range(5):
        records.task(due_at=timezone.now() + timedelta(hours=1))
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("dashboard"))
    assert len(many) == len(few)


def test_deleting_a_customer_takes_its_tasks_into_the_same_batch_and_undo_brings_them_back(records, admin_user):
    customer = records.customer()
    on_customer = records.task(customer=customer)
    on_contact = records.task(contact=records.contact(customer))
    on_deal = records.task(opportunity=records.opportunity(customer))
    on_ticket = records.task(ticket=records.ticket(customer))
    elsewhere = records.task()
    tasks = (on_customer, on_contact, on_deal, on_ticket)
    with activate(records.tenant, user=admin_user):
        from customers.models import Customer

        batch = recyclebin.delete(Customer.objects.filter(pk=customer.pk), acting_user=admin_user)
        assert batch.counts["task"] == 4
        stored = Task.all_objects.in_bulk([task.pk for task in (*tasks, elsewhere)])
        assert {stored[task.pk].deletion_batch for task in tasks} == {batch.id}
        assert stored[elsewhere.pk].deleted_at is None
        recyclebin.restore_batch(batch.id, acting_user=admin_user)
        assert Task.objects.filter(pk__in=[task.pk for task in tasks]).count() == 4
