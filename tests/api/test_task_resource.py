"""/api/v1/tasks/: the resource contract, plus what is special about tasks."""

from datetime import timedelta

from django.utils import timezone

from activities.models import Task
from tests.api.conftest import error_of
from tests.api.test_resources import ResourceContract
from tests.trail import Trail


class TestTasks(ResourceContract):
    path = "tasks"
    record_type = "task"
    model = Task
    text_field = "title"

    def create_data(self, records):
        return {
            "title": "Call back about the renewal",
            "customer": records.customer().pk,
            "due_at": (timezone.now() + timedelta(days=2)).isoformat(),
            "remind_before": 60,
            "priority": "high",
        }

    def test_assignee_defaults_to_the_requesting_user_and_done_completes(self, api, records):
        response = api.post(self.url(), {"title": "Standalone"}, format="json")
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["assignee"] == api.user.pk and body["customer"] is None and body["completed_at"] is None
        with Trail(records.tenant) as trail:
            done = api.patch(self.url(body["id"]), {"done": True}, format="json").json()
        assert done["done"] is True and done["completed_at"]
        assert trail.event_objects[0].detail["fields"] == ["completed_at", "done"]

    def test_one_parent_at_most(self, api, records):
        customer = records.customer()
        data = {"title": "Two parents", "customer": customer.pk, "ticket": records.ticket(customer).pk}
        error_of(api.post(self.url(), data, format="json"), 400)
        assert not Task.all_objects.filter(title="Two parents").exists()

    def test_an_assignee_from_another_company_is_refused(self, api, records, other_records):
        data = {"title": "X", "assignee": other_records.actor.pk}
        assert "assignee" in error_of(api.post(self.url(), data, format="json"), 400)["fields"]

    def test_filters(self, api, records):
        mine = records.task(title="Open one")
        records.task(title="Done one", done=True)
        rows = api.get(self.url(), {"done": "false"}).json()["results"]
        assert [row["id"] for row in rows] == [mine.pk]
        error_of(api.get(self.url(), {"due_before": "not a time"}), 400)

    def test_a_rep_sees_tasks_assigned_to_them_on_customers_they_cannot_see(self, api_as, records):
        rep = api_as("rep")
        assigned = records.task(assignee=rep.user)  # on the admin's customer
        ids = {row["id"] for row in rep.get(self.url()).json()["results"]}
        assert assigned.pk in ids
        assert rep.patch(self.url(assigned.pk), {"done": True}, format="json").status_code == 200

    def test_support_sees_no_tasks_on_deals(self, api_as, records):
        support = api_as("support")
        on_deal = records.task(opportunity=records.opportunity())
        on_ticket = records.task(ticket=records.ticket())
        ids = {row["id"] for row in support.get(self.url()).json()["results"]}
        assert on_ticket.pk in ids and on_deal.pk not in ids
        error_of(support.get(self.url(on_deal.pk)), 404)
        # Visible, but not theirs: a 403.
        error_of(support.patch(self.url(on_ticket.pk), {"title": "x"}, format="json"), 403)
