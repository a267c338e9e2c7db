"""A ticket's conversation in the browser: log the customer's reply, answer it, see the thread and the
first response time, without leaving the page (htmx)."""

import pytest
from playwright.sync_api import expect

from customers.models import Ticket, TicketMessage
from tests.e2e.conftest import log_in
from tests.factories import RecordMaker, make_member

pytestmark = pytest.mark.browser


def test_log_a_customer_reply_then_answer_it_on_the_ticket_page(page, tenant, admin, snap):
    agent = make_member(tenant, "agent", role="support")
    ticket = RecordMaker(tenant, admin).ticket(subject="Printer on fire", assignee=agent)
    log_in(page, "erin")

    page.goto(f"/tickets/{ticket.pk}/")
    expect(page.get_by_test_id("thread-empty")).to_be_visible()
    expect(page.get_by_test_id("ticket-first-response")).to_contain_text("Not answered yet")

    form = page.get_by_test_id("ticket-message-form")
    form.get_by_label("Reply from the customer", exact=True).check()
    form.get_by_label("Message", exact=True).fill("It is still smoking.")
    form.get_by_test_id("message-submit").click()
    expect(page.get_by_test_id("ticket-message")).to_have_count(1)

    form = page.get_by_test_id("ticket-message-form")  # the block was swapped in place
    form.get_by_label("Reply to the customer", exact=True).check()
    form.get_by_label("Message", exact=True).fill("Unplug it; a technician comes at 3 pm.")
    form.get_by_test_id("message-submit").click()

    messages = page.get_by_test_id("ticket-message")
    expect(messages).to_have_count(2)
    expect(messages.nth(0)).to_have_attribute("data-kind", "customer")
    expect(messages.nth(1)).to_contain_text("a technician comes at 3 pm")
    expect(messages.nth(1).get_by_test_id("message-author")).to_have_text("erin")
    expect(page.get_by_test_id("ticket-first-response")).to_contain_text("after")
    expect(page.get_by_test_id("ticket-message-form").get_by_label("Message")).to_have_value("")
    snap(page, "ticket-conversation")

    assert list(TicketMessage.all_objects.filter(ticket=ticket).order_by("id").values_list("kind", "author")) == [
        ("customer", admin.pk),
        ("reply", admin.pk),
    ]
    assert Ticket.all_objects.get(pk=ticket.pk).first_response_at is not None
