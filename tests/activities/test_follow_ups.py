"""Log a call and Move stage offer "add a follow-up task" in the same step (and the same transaction)."""

from django.urls import reverse

from activities.models import Task
from customers.models import Interaction
from sales.models import Opportunity
from tests.conftest import login
from tests.trail import Trail


def test_logging_a_call_with_a_follow_up_creates_both(records, admin_user):
    customer = records.customer()
    url = reverse("customers:interaction_create", args=[customer.pk])
    client = login(admin_user)
    assert 'name="follow_up_title"' in client.get(url).content.decode()
    data = {
        "kind": "call",
        "summary": "Wants a quote",
        "follow_up_title": "Send the quote",
        "follow_up_due_at": "2027-02-01T10:00",
    }
    with Trail(records.tenant) as trail:
        response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    task = Task.all_objects.get(title="Send the quote")
    assert task.customer_id == customer.pk and task.assignee == admin_user and task.due_at is not None
    assert [(action, kind) for action, kind, _id in trail.events] == [("create", "interaction"), ("create", "task")]


def test_without_a_title_no_task_and_a_due_time_alone_is_a_form_error(records, admin_user):
    customer = records.customer()
    url = reverse("customers:interaction_create", args=[customer.pk])
    client = login(admin_user)
    assert client.post(url, {"kind": "call", "summary": "No follow-up"}).status_code == 302
    assert not Task.all_objects.exists()
    response = client.post(url, {"kind": "call", "summary": "Kept text 42", "follow_up_due_at": "2027-02-01T10:00"})
    page = response.content.decode()
    assert response.status_code == 200 and "Give the follow-up task a title." in page and "Kept text 42" in page
    assert Interaction.all_objects.filter(summary="Kept text 42").count() == 0


def test_the_inline_log_form_on_the_customer_page_offers_it(records, admin_user):
    customer = records.customer()
    page = login(admin_user).get(customer.get_absolute_url()).content.decode()
    assert 'name="follow_up_title"' in page and 'name="follow_up_due_at"' in page


def test_editing_an_interaction_offers_no_follow_up(records, admin_user):
    interaction = records.interaction()
    page = login(admin_user).get(reverse("customers:interaction_edit", args=[interaction.pk])).content.decode()
    assert "follow_up_title" not in page


def test_moving_a_stage_with_a_follow_up(records, admin_user):
    deal = records.opportunity()
    client = login(admin_user)
    assert 'name="move-follow_up_title"' in client.get(deal.get_absolute_url()).content.decode()
    data = {"move-stage": "proposal", "move-lost_reason": "", "move-follow_up_title": "Chase the proposal"}
    with Trail(records.tenant) as trail:
        response = client.post(reverse("sales:move", args=[deal.pk]), data)
    assert response.status_code == 302
    assert Opportunity.all_objects.get(pk=deal.pk).stage == "proposal"
    assert Task.all_objects.get(title="Chase the proposal").opportunity_id == deal.pk
    assert [(action, kind) for action, kind, _id in trail.events] == [("update", "opportunity"), ("create", "task")]


def test_a_failed_follow_up_rolls_the_stage_change_back(records, admin_user):
    deal = records.opportunity()
    data = {"move-stage": "lost", "move-lost_reason": "Price", "move-follow_up_title": "x" * 201}
    response = login(admin_user).post(reverse("sales:move", args=[deal.pk]), data)
    assert response.status_code == 400
    assert Opportunity.all_objects.get(pk=deal.pk).stage == "lead"
    assert not Task.all_objects.exists()
