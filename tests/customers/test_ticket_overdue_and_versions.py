"""Overdue tickets notify their assignee exactly once; the ticket page's small forms never overwrite a
newer ticket."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from activities.models import Kind, Notification
from activities.notify import message
from crm.tenancy.context import activate
from customers import actions, conversation_actions
from customers.models import PENDING_OVERDUE_SQL, Ticket
from customers.tasks import notify_overdue
from tests.conftest import login
from tests.factories import make_member
from tests.trail import Trail


def past(**delta):
    return timezone.now() - timedelta(**delta)


def overdue_notices(user):
    return list(
        Notification.all_objects.filter(user=user, kind=Kind.TICKET_OVERDUE)
        .order_by("pk")
        .values_list("object_id", flat=True)
    )


# -- overdue tickets ------------------------------------------------------------------------------------------


def test_an_open_ticket_past_its_due_time_notifies_its_assignee_once(records, admin_user):
    agent = make_member(records.tenant, role="support")
    late = records.ticket(subject="Printer", assignee=agent, due_at=past(minutes=1), status="open")
    records.ticket(assignee=agent, due_at=timezone.now() + timedelta(hours=1))  # not yet
    records.ticket(assignee=agent, due_at=past(hours=1), status="resolved")  # done
    records.ticket(assignee=agent, due_at=None)  # no due time
    gone = records.ticket(assignee=agent, due_at=past(hours=1))
    with activate(records.tenant, user=admin_user):
        Ticket.objects.filter(pk=gone.pk).delete()

    with Trail(records.tenant) as trail:
        assert notify_overdue() == 1
    assert overdue_notices(agent) == [late.pk]
    assert trail.events == [("update", "ticket", "")]
    assert trail.event_objects[0].detail == {"ids": [late.pk], "fields": ["overdue_notified_at"]}
    assert trail.versions == [("ticket", late.pk, "~", "overdue notice")]
    with activate(records.tenant):
        notice = Notification.all_objects.get(user=agent, kind=Kind.TICKET_OVERDUE)
        assert message(notice) == "Ticket “Printer” is past its due time."

    assert notify_overdue() == 0  # again (a restarted worker): nothing new
    assert overdue_notices(agent) == [late.pk]


def test_a_new_due_time_is_news_again(records, admin_user):
    ticket = records.ticket(assignee=admin_user, due_at=past(minutes=5))
    notify_overdue()
    records._run(actions.update_ticket, Ticket.all_objects.get(pk=ticket.pk), due_at=past(minutes=1))
    assert notify_overdue() == 1
    assert overdue_notices(admin_user) == [ticket.pk, ticket.pk]


def test_an_unassigned_overdue_ticket_is_claimed_but_notifies_nobody(records):
    records.ticket(assignee=None, due_at=past(minutes=1))
    assert notify_overdue() == 1
    assert not Notification.all_objects.filter(kind=Kind.TICKET_OVERDUE).exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_notify_each_overdue_ticket_exactly_once(records, admin_user):
    tickets = [records.ticket(assignee=admin_user, due_at=past(minutes=index + 1)) for index in range(30)]
    barrier = threading.Barrier(4)
    sent = []

    def run():
        barrier.wait()
        try:
            with activate(records.tenant, process="tests:overdue"):
                sent.append(conversation_actions.notify_overdue_tickets(acting_user=None))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(sent) == 30
    assert sorted(overdue_notices(admin_user)) == sorted(ticket.pk for ticket in tickets)


def test_the_job_runs_on_a_real_worker(celery_worker, records, admin_user):
    ticket = records.ticket(assignee=admin_user, due_at=past(minutes=1))
    notify_overdue.delay()
    for _ in range(100):
        if overdue_notices(admin_user):
            break
        threading.Event().wait(0.1)
    assert overdue_notices(admin_user) == [ticket.pk]


def test_the_claim_finds_overdue_tickets_through_the_partial_index(records):
    ticket = records.ticket(due_at=past(minutes=1))
    with connection.cursor() as cursor:
        # Many closed tickets and a few waiting: the partial index holds only the waiting ones.
        cursor.execute(
            "INSERT INTO customers_ticket (tenant_id, customer_id, subject, description, status, priority, due_at,"
            " created_at, updated_at, version) SELECT %s, %s, 'Old', '', 'closed', 'normal',"
            " now() - interval '1 day', now(), now(), 1 FROM generate_series(1, 5000)",
            [records.tenant.pk, ticket.customer_id],
        )
        cursor.execute("ANALYZE customers_ticket")
        cursor.execute(
            f"EXPLAIN UPDATE customers_ticket SET overdue_notified_at = now() "
            f"WHERE tenant_id = %s AND due_at <= now() AND {PENDING_OVERDUE_SQL}",
            [records.tenant.pk],
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "ticket_overdue_pending" in plan, plan


# -- versions on the ticket page ----------------------------------------------------------------------------


def test_the_ticket_pages_forms_carry_the_version_they_were_loaded_with(records, admin_user):
    ticket = records.ticket(assignee=None)
    page = login(admin_user).get(ticket.get_absolute_url()).content.decode()
    assert page.count(f'name="version" value="{ticket.version}"') == 3  # status, assign, assign to me


def test_a_stale_status_change_does_not_overwrite_a_newer_ticket(records, admin_user, tenant):
    ticket = records.ticket(status="open")
    seen = ticket.version
    colleague = login(make_member(tenant, role="support"))
    assert (
        colleague.post(reverse("tickets:status", args=[ticket.pk]), {"status": "pending", "version": seen}).status_code
        == 302
    )
    client = login(admin_user)
    with Trail(tenant) as trail:
        response = client.post(
            reverse("tickets:status", args=[ticket.pk]), {"status": "resolved", "version": seen}, follow=True
        )
    assert trail.events == [] and trail.versions == []
    assert "changed since you loaded the page" in response.content.decode()
    stored = Ticket.all_objects.get(pk=ticket.pk)
    assert (stored.status, stored.resolved_at, stored.version) == ("pending", None, seen + 1)


def test_a_stale_assignment_does_not_overwrite_a_newer_ticket(records, admin_user, tenant):
    agent = make_member(tenant, role="support")
    ticket = records.ticket(assignee=None)
    seen = ticket.version
    records._run(actions.update_ticket, Ticket.all_objects.get(pk=ticket.pk), subject="Renamed meanwhile")
    client = login(admin_user)
    response = client.post(reverse("tickets:assign", args=[ticket.pk]), {"assignee": agent.pk, "version": seen})
    assert response.status_code == 302
    assert Ticket.all_objects.get(pk=ticket.pk).assignee is None
    fresh = Ticket.all_objects.get(pk=ticket.pk).version
    assert (
        client.post(reverse("tickets:assign", args=[ticket.pk]), {"assignee": agent.pk, "version": fresh}).status_code
        == 302
    )
    assert Ticket.all_objects.get(pk=ticket.pk).assignee == agent
