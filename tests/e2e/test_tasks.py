"""Tasks in the browser: create one on a customer, find it in My tasks, complete it with one click."""

import re

import pytest
from playwright.sync_api import expect

from activities.models import Task
from tests.e2e.conftest import log_in
from tests.factories import RecordMaker

pytestmark = pytest.mark.browser


def test_create_a_task_on_a_customer_see_it_in_my_tasks_and_complete_it(page, tenant, admin, snap):
    customer = RecordMaker(tenant, admin).customer(name="Initech")
    log_in(page, "erin")

    page.goto(f"/customers/{customer.pk}/")
    page.get_by_test_id("add-task").click()
    form = page.get_by_test_id("task-form")
    expect(form.get_by_label("Customer")).to_have_value(str(customer.pk))
    form.get_by_label("Title").fill("Call Initech about the renewal")
    form.get_by_label("Due").fill("2020-01-01T09:00")  # already overdue
    page.get_by_test_id("save").click()

    task = Task.all_objects.get(title="Call Initech about the renewal")
    assert task.customer_id == customer.pk and task.assignee_id == admin.pk
    expect(page).to_have_url(re.compile(rf"/tasks/{task.pk}/$"))
    expect(page.get_by_test_id("task-overdue")).to_be_visible()

    page.get_by_test_id("nav-my-tasks").click()
    row = page.locator(f'[data-testid="task-row"][data-id="{task.pk}"]')
    expect(row).to_contain_text("Initech")
    expect(row).to_have_class(re.compile("table-danger"))  # overdue is highlighted
    snap(page, "my-tasks")

    row.get_by_test_id("complete-task").click()  # htmx swaps the row in place
    expect(row.get_by_test_id("reopen-task")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/tasks/mine/$"))
    task.refresh_from_db()
    assert task.done and task.completed_at is not None

    page.reload()
    expect(page.get_by_test_id("empty-state")).to_be_visible()
