"""Notifications: delivered on assignment, share and due tasks; the bell, the list, mark read, email by preference."""

import threading

from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from activities.actions import set_email_preferences
from activities.models import Kind, Notification, NotificationPreference
from crm.tenancy.context import activate
from customers import actions as customer_actions
from tests.conftest import login
from tests.factories import make_member
from tests.trail import Trail


def inbox(user):
    return list(
        Notification.all_objects.filter(user=user).order_by("pk").values_list("kind", "object_type", "object_id")
    )


def test_assigning_a_record_to_someone_notifies_them_once(records, admin_user):
    rep = make_member(records.tenant, role="rep")
    ticket = records.ticket(assignee=rep)
    task = records.task(assignee=rep)
    customer = records.customer()
    records._run(customer_actions.update_customer, customer, owner=rep)
    records._run(customer_actions.update_customer, customer, name="Renamed, same owner")
    assert inbox(rep) == [
        (Kind.ASSIGNED, "ticket", ticket.pk),
        (Kind.ASSIGNED, "task", task.pk),
        (Kind.ASSIGNED, "customer", customer.pk),
    ]
    records.task(assignee=admin_user)  # given to oneself: no news
    assert inbox(admin_user) == []


def test_sharing_a_customer_notifies_the_member(records, admin_user):
    rep = make_member(records.tenant, role="rep")
    customer = records.customer()
    with Trail(records.tenant) as trail:
        records._run(customer_actions.share_customer, customer, rep)
    assert inbox(rep) == [(Kind.SHARED, "customer", customer.pk)]
    assert [action for action, _type, _id in trail.events] == ["share"]  # still one audit event


def test_the_bell_counts_unread_in_a_constant_number_of_queries(records, admin_user):
    rep = make_member(records.tenant, role="rep")
    client = login(rep)
    records.task(assignee=rep)
    client.get(reverse("dashboard"))
    with CaptureQueriesContext(connection) as few:
        page = client.get(reverse("dashboard")).content.decode()
    assert 'data-testid="unread-count">1<' in page
    for _ in range(6):
        records.task(assignee=rep)
    with CaptureQueriesContext(connection) as many:
        page = client.get(reverse("dashboard")).content.decode()
    assert 'data-testid="unread-count">7<' in page
    assert len(many) == len(few)


def test_the_list_mark_read_and_mark_all_read(records, admin_user):
    rep = make_member(records.tenant, role="rep")
    first, second = records.task(assignee=rep, title="First"), records.task(assignee=rep, title="Second")
    client = login(rep)
    page = client.get(reverse("notifications:list")).content.decode()
    assert "First" in page and "Second" in page and "is now assigned to you" in page
    one = Notification.all_objects.get(user=rep, object_id=first.pk)
    with Trail(records.tenant) as trail:
        response = client.post(reverse("notifications:read"), {"id": one.pk, "open": first.get_absolute_url()})
    assert response.status_code == 302 and response.url == first.get_absolute_url()
    assert [(action, kind) for action, kind, _id in trail.events] == [("update", "notification")]
    assert Notification.all_objects.filter(user=rep, read_at__isnull=True).count() == 1
    client.post(reverse("notifications:read"))
    assert not Notification.all_objects.filter(user=rep, read_at__isnull=True).exists()
    assert second.pk in [n.object_id for n in Notification.all_objects.filter(user=rep)]


def test_notifications_are_per_user_and_per_company(records, other_records, admin_user):
    rep = make_member(records.tenant, role="rep")
    records.task(assignee=rep)
    theirs = Notification.all_objects.get(user=rep)
    # Another member cannot mark it read, nor see it.
    colleague = login(make_member(records.tenant, role="rep"))
    assert "Task" not in colleague.get(reverse("notifications:list")).content.decode().split("<main")[1]
    colleague.post(reverse("notifications:read"), {"id": theirs.pk})
    theirs.refresh_from_db()
    assert theirs.read_at is None
    # The same person in another company sees that company's notifications only.
    from crm.tenancy.actions import add_member

    add_member(other_records.tenant, rep.username, role="admin", acting_user=None)
    with activate(other_records.tenant):
        assert not Notification.objects.filter(user=rep).exists()
    with activate(records.tenant):
        assert Notification.objects.filter(user=rep).count() == 1


def test_the_preferences_page_sets_email_per_kind(records, admin_user):
    client = login(admin_user)
    assert client.get(reverse("notifications:preferences")).status_code == 200
    with Trail(records.tenant) as trail:
        response = client.post(reverse("notifications:preferences"), {"email": [Kind.ASSIGNED, Kind.TASK_DUE]})
    assert response.status_code == 302
    assert [action for action, _type, _id in trail.events] == ["settings"]
    chosen = NotificationPreference.all_objects.filter(user=admin_user, email=True).values_list("kind", flat=True)
    assert sorted(chosen) == sorted([Kind.ASSIGNED, Kind.TASK_DUE])
    response = client.post(reverse("notifications:preferences"), {"email": ["nonsense"]})
    assert response.status_code == 200 and "is-invalid" in response.content.decode()


def test_email_goes_out_from_celery_only_to_those_who_chose_it(celery_worker, records, admin_user):
    wants, does_not = make_member(records.tenant, role="rep"), make_member(records.tenant, role="rep")
    for user in (wants, does_not):
        user.email = f"{user.username}@example.com"
        user.save()
    with activate(records.tenant, user=wants, process="tests"):
        set_email_preferences([Kind.ASSIGNED], acting_user=wants)
    mail.outbox.clear()
    records.task(title="Email me", assignee=wants)
    records.task(title="Do not email me", assignee=does_not)
    for _ in range(100):
        if mail.outbox:
            break
        threading.Event().wait(0.1)
    threading.Event().wait(0.5)  # time for a wrong second email to arrive
    assert [message.to for message in mail.outbox] == [[wants.email]]
    assert "Email me" in mail.outbox[0].subject
