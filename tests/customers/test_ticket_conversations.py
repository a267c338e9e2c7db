"""A ticket's conversation: replies, internal notes and logged customer replies on the ticket page;
the first response and resolution times they set; who may read and write them; the recycle bin."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from activities.models import Kind, Notification
from crm.recyclebin import actions as recyclebin
from crm.tenancy.context import activate
from customers.models import Customer, Ticket, TicketMessage
from tests.conftest import login
from tests.factories import RecordMaker, make_member
from tests.trail import Trail


def post_message(client, ticket, kind="reply", body="We are on it.", **extra):
    return client.post(reverse("tickets:message", args=[ticket.pk]), {"kind": kind, "body": body, **extra})


def thread(ticket):
    return list(
        TicketMessage.all_objects.filter(ticket=ticket).order_by("created_at", "id").values_list("kind", "body")
    )


def stored(ticket) -> Ticket:
    return Ticket.all_objects.get(pk=ticket.pk)


# -- the thread on the ticket page ---------------------------------------------------------------------


def test_the_ticket_page_shows_the_thread_oldest_first_with_kind_author_and_time(records, admin_user):
    ticket = records.ticket()
    records.ticketmessage(ticket, kind="customer", body="The printer smokes.")
    records.ticketmessage(ticket, kind="reply", body="Unplug it, please.")
    records.ticketmessage(ticket, kind="note", body="Third time this month.")
    page = login(admin_user).get(ticket.get_absolute_url()).content.decode()
    bodies = re.findall(r'data-testid="message-body"><p>(.*?)</p>', page)
    assert bodies == ["The printer smokes.", "Unplug it, please.", "Third time this month."]
    assert re.findall(r'data-testid="ticket-message" data-kind="(\w+)"', page) == ["customer", "reply", "note"]
    assert "Reply from the customer" in page and "Internal note" in page and "Reply to the customer" in page
    assert page.count(f'data-testid="message-author">{admin_user.username}<') == 3


def test_the_thread_costs_the_same_queries_however_long_it_is(records, admin_user):
    ticket = records.ticket()
    client = login(admin_user)
    records.ticketmessage(ticket)
    client.get(ticket.get_absolute_url())
    with CaptureQueriesContext(connection) as few:
        assert client.get(ticket.get_absolute_url()).status_code == 200
    for _ in range(10):
        records.ticketmessage(ticket, author=make_member(records.tenant, role="support"), kind="note")
    with CaptureQueriesContext(connection) as many:
        assert client.get(ticket.get_absolute_url()).status_code == 200
    assert len(many) == len(few), [query["sql"] for query in many.captured_queries]


def test_a_reply_through_the_form_is_one_action_with_its_history_and_audit(records, admin_user):
    ticket = records.ticket()
    client = login(admin_user)
    with Trail(records.tenant) as trail:
        response = post_message(client, ticket, body="Unplug it, please.")
    assert response.status_code == 302 and response["Location"] == ticket.get_absolute_url()
    message = TicketMessage.all_objects.get(ticket=ticket)
    assert (message.kind, message.body, message.author, message.tenant_id) == (
        "reply",
        "Unplug it, please.",
        admin_user,
        records.tenant.pk,
    )
    # The message is created, and the ticket records its first response.
    assert trail.events == [("create", "ticketmessage", str(message.pk)), ("update", "ticket", str(ticket.pk))]
    assert trail.event_objects[1].detail == {"fields": ["first_response_at"]}
    assert trail.versions == [("ticket", ticket.pk, "~", "edited"), ("ticketmessage", message.pk, "+", "created")]


def test_the_author_is_whoever_writes_never_a_posted_field(records, admin_user, tenant):
    colleague = make_member(tenant, role="support")
    ticket = records.ticket()
    post_message(login(admin_user), ticket, author=colleague.pk)
    assert TicketMessage.all_objects.get(ticket=ticket).author == admin_user


def test_bad_input_is_a_form_error_and_writes_nothing(records, admin_user):
    ticket = records.ticket()
    client = login(admin_user)
    for data in ({"kind": "reply", "body": ""}, {"kind": "shout", "body": "Hi"}, {"kind": "note", "body": "a\x00b"}):
        response = client.post(reverse("tickets:message", args=[ticket.pk]), data)
        assert response.status_code == 400
        assert "invalid-feedback" in response.content.decode()
    response = client.post(reverse("tickets:message", args=[ticket.pk]), {"kind": "reply", "body": "x" * 10001})
    assert response.status_code == 400
    assert thread(ticket) == []


# -- first response and resolution times ---------------------------------------------------------------------


def test_the_first_reply_to_the_customer_sets_the_first_response_time_once(records, admin_user):
    ticket = records.ticket()
    records.ticketmessage(ticket, kind="customer", body="Any news?")
    records.ticketmessage(ticket, kind="note", body="Asked the vendor.")
    assert stored(ticket).first_response_at is None  # neither a note nor the customer's reply answers
    first = records.ticketmessage(ticket, kind="reply", body="Fixed tomorrow.")
    records.ticketmessage(ticket, kind="reply", body="Fixed now.")
    assert stored(ticket).first_response_at == first.created_at


def test_the_ticket_page_shows_first_response_and_resolution_times(records, admin_user):
    ticket = records.ticket()
    client = login(admin_user)
    assert "Not answered yet" in client.get(ticket.get_absolute_url()).content.decode()
    records.ticketmessage(ticket)
    client.post(reverse("tickets:status", args=[ticket.pk]), {"status": "resolved", "version": stored(ticket).version})
    page = client.get(ticket.get_absolute_url()).content.decode()
    assert re.search(r'data-testid="ticket-first-response">[^<]+<span[^>]*>\(after 0\xa0minutes\)', page), page
    assert 'data-testid="ticket-resolution-time">(after 0\xa0minutes)' in page
    assert stored(ticket).resolved_at is not None


# -- who may read and write --------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["admin", "manager", "support"])
def test_roles_that_work_tickets_answer_them(role, records):
    ticket = records.ticket()
    member = make_member(records.tenant, role=role)
    assert post_message(login(member), ticket, body=f"From {role}").status_code == 302
    assert TicketMessage.all_objects.get(ticket=ticket).author == member


def test_a_viewer_reads_the_thread_but_has_no_form_and_may_not_post(records):
    ticket = records.ticket()
    records.ticketmessage(ticket, body="Visible to all.")
    viewer = make_member(records.tenant, role="viewer")
    client = login(viewer)
    page = client.get(ticket.get_absolute_url()).content.decode()
    assert "Visible to all." in page and 'data-testid="ticket-message-form"' not in page
    with Trail(records.tenant) as trail:
        assert post_message(client, ticket).status_code == 403
    assert trail.versions == [] and len(thread(ticket)) == 1


def test_a_rep_answers_tickets_of_their_customers_only(records):
    rep = make_member(records.tenant, role="rep")
    mine = RecordMaker(records.tenant, rep).ticket()
    theirs = records.ticket()
    client = login(rep)
    assert post_message(client, mine).status_code == 302
    assert post_message(client, theirs).status_code == 404
    assert thread(theirs) == []


def test_another_companys_ticket_is_not_found(records, other_records, admin_user):
    theirs = other_records.ticket()
    client = login(admin_user)
    assert post_message(client, theirs).status_code == 404
    assert client.get(reverse("tickets:detail", args=[theirs.pk])).status_code == 404
    assert TicketMessage.all_objects.filter(ticket_id=theirs.pk).count() == 0


def test_a_rep_reads_the_messages_of_visible_tickets_only(records):
    rep = make_member(records.tenant, role="rep")
    mine = RecordMaker(records.tenant, rep).ticket()
    visible = records.ticketmessage(mine)
    hidden = records.ticketmessage(records.ticket())
    with activate(records.tenant):
        seen = set(TicketMessage.objects.for_user(rep, "view").values_list("pk", flat=True))
        changeable = set(TicketMessage.objects.for_user(rep, "change").values_list("pk", flat=True))
    assert seen == {visible.pk} and hidden.pk not in seen
    assert changeable == set()  # an admin wrote it: a rep changes only their own


# -- the recycle bin -----------------------------------------------------------------------------------------


def test_deleting_a_ticket_takes_its_messages_along_and_restoring_brings_them_back(records, admin_user):
    ticket = records.ticket()
    messages = [records.ticketmessage(ticket, kind=kind) for kind in ("customer", "reply", "note")]
    other = records.ticketmessage(records.ticket())
    with activate(records.tenant, user=admin_user):
        batch = recyclebin.delete(Ticket.objects.filter(pk=ticket.pk), acting_user=admin_user)
        assert batch.counts == {"ticket": 1, "ticketmessage": 3}
        assert {m.deletion_batch for m in TicketMessage.all_objects.filter(ticket=ticket)} == {batch.id}
        assert TicketMessage.objects.filter(pk=other.pk).exists()
    page = login(admin_user).get(reverse("tickets:detail", args=[ticket.pk]))
    assert page.status_code == 404
    with activate(records.tenant, user=admin_user):
        recyclebin.restore_batch(batch.id, acting_user=admin_user)
        assert set(TicketMessage.objects.filter(ticket=ticket).values_list("pk", flat=True)) == {m.pk for m in messages}


def test_deleting_the_customer_takes_tickets_and_their_messages_in_one_batch(records, admin_user):
    customer = records.customer()
    message = records.ticketmessage(records.ticket(customer))
    with activate(records.tenant, user=admin_user):
        batch = recyclebin.delete(Customer.objects.filter(pk=customer.pk), acting_user=admin_user)
        assert TicketMessage.all_objects.get(pk=message.pk).deletion_batch == batch.id


# -- notifications -------------------------------------------------------------------------------------------


def replies_to(user):
    return list(
        Notification.all_objects.filter(user=user, kind=Kind.TICKET_REPLY).values_list("object_type", "object_id")
    )


def test_a_logged_customer_reply_or_a_colleagues_reply_notifies_the_assignee(records, admin_user):
    agent = make_member(records.tenant, role="support")
    colleague = make_member(records.tenant, role="support")
    ticket = records.ticket(assignee=agent)
    records.ticketmessage(ticket, kind="customer", author=admin_user)
    records.ticketmessage(ticket, kind="reply", author=colleague)
    assert replies_to(agent) == [("ticket", ticket.pk), ("ticket", ticket.pk)]
    notification = Notification.all_objects.filter(user=agent, kind=Kind.TICKET_REPLY).first()
    with activate(records.tenant):
        from activities.notify import message

        assert message(notification) == f"Ticket “{ticket.subject}” has a new reply."


def test_the_assignees_own_messages_and_internal_notes_notify_nobody(records, admin_user):
    agent = make_member(records.tenant, role="support")
    ticket = records.ticket(assignee=agent)
    records.ticketmessage(ticket, kind="reply", author=agent)
    records.ticketmessage(ticket, kind="customer", author=agent)
    records.ticketmessage(ticket, kind="note", author=admin_user)
    records.ticketmessage(records.ticket(assignee=None), kind="customer")
    assert Notification.all_objects.filter(kind=Kind.TICKET_REPLY).count() == 0
