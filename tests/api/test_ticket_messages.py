"""/api/v1/ticket-messages/: a ticket's conversation over the API (the resource contract, and what is its own)."""

from activities.models import Kind, Notification
from crm.tenancy.context import activate
from customers.models import Ticket, TicketMessage
from tests.api.conftest import error_of
from tests.api.test_resources import ResourceContract
from tests.factories import make_member
from tests.trail import Trail

URL = "/api/v1/ticket-messages/"


class TestTicketMessages(ResourceContract):
    path = "ticket-messages"
    record_type = "ticketmessage"
    model = TicketMessage
    text_field = "body"

    def create_data(self, records):
        # A note: the contract counts exactly one write (a reply also records the ticket's first response).
        return {"ticket": records.ticket().pk, "kind": "note", "body": "Called the vendor."}

    def foreign_reference(self, other_records):
        return {"ticket": other_records.ticket().pk}

    def test_put_replaces(self, api, records):
        # A message stays on its ticket: PUT names the same one.
        record = self.make(records)
        data = {"ticket": record.ticket_id, "kind": record.kind, "body": self.new_text()}
        response = api.put(self.url(record.pk), data, format="json")
        assert response.status_code == 200, response.content
        assert self.stored(records.tenant, record.pk).body == self.new_text()


def test_the_thread_of_one_ticket_oldest_first(api, records):
    ticket = records.ticket()
    first = records.ticketmessage(ticket, kind="customer", body="Help!")
    second = records.ticketmessage(ticket, kind="reply", body="On it.")
    records.ticketmessage(records.ticket())
    body = api.get(URL, {"ticket": ticket.pk}).json()
    assert [(row["id"], row["kind"], row["body"], row["author"]) for row in body["results"]] == [
        (first.pk, "customer", "Help!", records.actor.pk),
        (second.pk, "reply", "On it.", records.actor.pk),
    ]
    error_of(api.get(URL, {"ticket": "x"}), 400)
    error_of(api.get(URL, {"kind": "shout"}), 400)


def test_the_author_is_the_requesting_user_and_cannot_be_given(api, records, tenant):
    ticket = records.ticket()
    colleague = make_member(tenant, role="support")
    error = error_of(api.post(URL, {"ticket": ticket.pk, "body": "Hi", "author": colleague.pk}, format="json"), 400)
    assert "author" in error["fields"]
    response = api.post(URL, {"ticket": ticket.pk, "body": "Hi"}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["author"] == api.user.pk and response.json()["kind"] == "reply"
    message = records.ticketmessage(ticket)
    error = error_of(api.patch(f"{URL}{message.pk}/", {"author": colleague.pk}, format="json"), 400)
    assert "author" in error["fields"]


def test_a_reply_records_the_first_response_and_notifies_the_assignee(api, records, tenant):
    agent = make_member(tenant, role="support")
    ticket = records.ticket(assignee=agent)
    with Trail(tenant) as trail:
        response = api.post(URL, {"ticket": ticket.pk, "kind": "reply", "body": "Fixed."}, format="json")
    assert response.status_code == 201, response.content
    assert [event[:2] for event in trail.events] == [("create", "ticketmessage"), ("update", "ticket")]
    with activate(tenant):
        assert Ticket.objects.get(pk=ticket.pk).first_response_at is not None
    assert api.get(f"/api/v1/tickets/{ticket.pk}/").json()["first_response_at"] is not None
    assert list(
        Notification.all_objects.filter(user=agent, kind=Kind.TICKET_REPLY).values_list("kind", "object_id")
    ) == [(Kind.TICKET_REPLY, ticket.pk)]


def test_kind_and_ticket_stay_as_written(api, records):
    message = records.ticketmessage(kind="note")
    assert "kind" in error_of(api.patch(f"{URL}{message.pk}/", {"kind": "reply"}, format="json"), 400)["fields"]
    other = records.ticket()
    assert "ticket" in error_of(api.patch(f"{URL}{message.pk}/", {"ticket": other.pk}, format="json"), 400)["fields"]


def test_support_answers_any_visible_ticket_and_changes_only_its_own_messages(api_as, records):
    support = api_as("support")
    ticket = records.ticket()
    response = support.post(URL, {"ticket": ticket.pk, "body": "From support"}, format="json")
    assert response.status_code == 201, response.content
    theirs = records.ticketmessage(ticket)
    assert support.get(f"{URL}{theirs.pk}/").status_code == 200
    error_of(support.patch(f"{URL}{theirs.pk}/", {"body": "Mine now"}, format="json"), 403)
    mine = response.json()["id"]
    assert support.patch(f"{URL}{mine}/", {"body": "Corrected"}, format="json").status_code == 200
