"""The tickets report's first response and resolution times: median and 90th percentile per assignee."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from customers.models import Ticket
from reports.queries import service
from tests.conftest import login
from tests.factories import make_member


def opened_hours_before(ticket, hours):
    """Test data: move the ticket's opening back (its times are set by the server)."""
    Ticket.all_objects.filter(pk=ticket.pk).update(created_at=timezone.now() - timedelta(hours=hours))


def test_the_report_gives_median_and_90th_percentile_per_assignee(records, admin_user, in_company, tenant):
    agent = make_member(tenant, "agent", role="support")
    for hours in (1, 2, 3, 4, 10):  # answered now, opened these many hours ago
        ticket = records.ticket(assignee=agent)
        records.ticketmessage(ticket, kind="reply")
        opened_hours_before(ticket, hours)
    resolved = records.ticket(assignee=admin_user, status="resolved")
    opened_hours_before(resolved, 8)
    records.ticket(assignee=agent)  # neither answered nor resolved: not counted
    other = make_member(tenant, role="support")
    records.ticketmessage(records.ticket(assignee=other), kind="note")  # a note is no response

    tables = in_company(service.tickets, admin_user)
    rows = {row["name"]: row for row in tables["sla"]}
    assert set(rows) == {"agent", admin_user.username, "Everyone"}
    agent_row = rows["agent"]
    assert agent_row["responded"] == 5 and agent_row["resolved"] == 0
    assert agent_row["response_median"] == pytest.approx(3, abs=0.02)
    assert agent_row["response_p90"] == pytest.approx(7.6, abs=0.02)  # 4 + 0.6 * (10 - 4)
    assert agent_row["resolution_median"] is None
    admin_row = rows[admin_user.username]
    assert (admin_row["responded"], admin_row["resolved"]) == (0, 1)
    assert admin_row["resolution_median"] == pytest.approx(8, abs=0.02)
    assert rows["Everyone"]["responded"] == 5 and rows["Everyone"]["resolved"] == 1


def test_the_report_page_shows_the_sla_table(records, admin_user):
    ticket = records.ticket(assignee=admin_user)
    records.ticketmessage(ticket)
    page = login(admin_user).get(reverse("reports:report", args=["tickets"])).content.decode()
    assert "First response and resolution time by assignee (hours)" in page
    assert "Median first response (h)" in page
