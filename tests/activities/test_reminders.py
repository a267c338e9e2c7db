"""The reminder job: each reminder once (again or at the same time), through notifications, found by index."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from activities.actions import send_reminders, update_task
from activities.models import PENDING_DUE_SQL, Kind, Notification, Task
from activities.tasks import send_due_reminders
from crm.tenancy.context import activate
from tests.factories import make_member
from tests.trail import Trail


def reminders_of(user):
    return list(
        Notification.all_objects.filter(user=user, kind=Kind.TASK_DUE).order_by("pk").values_list("object_id", "early")
    )


def past(**delta):
    return timezone.now() - timedelta(**delta)


def test_due_and_early_reminders_go_out_once_each(records, admin_user):
    rep = make_member(records.tenant, role="rep")
    due = records.task(title="Due now", assignee=rep, due_at=past(minutes=1), remind_before=15)
    soon = records.task(title="Due soon", assignee=rep, due_at=timezone.now() + timedelta(minutes=10), remind_before=15)
    later = records.task(title="Tomorrow", assignee=rep, due_at=timezone.now() + timedelta(days=1))
    finished = records.task(title="Done", assignee=rep, due_at=past(hours=1), done=True)
    gone = records.task(title="Deleted", assignee=rep, due_at=past(hours=1))
    with activate(records.tenant, user=admin_user):
        Task.objects.filter(pk=gone.pk).delete()

    with Trail(records.tenant) as trail:
        assert send_due_reminders() == 3
    assert sorted(reminders_of(rep)) == sorted([(due.pk, True), (due.pk, False), (soon.pk, True)])
    assert [(action, kind) for action, kind, _id in trail.events] == [("update", "task")]
    assert trail.event_objects[0].count == 2
    assert sorted(trail.versions) == sorted([("task", due.pk, "~", "reminded"), ("task", soon.pk, "~", "reminded")])

    assert send_due_reminders() == 0  # a second run (a restarted worker) sends nothing again
    assert len(reminders_of(rep)) == 3
    for task in (later, finished, gone):
        assert task.pk not in {pk for pk, _early in reminders_of(rep)}


def test_a_new_due_time_is_reminded_again(records, admin_user):
    task = records.task(due_at=past(minutes=5))
    send_due_reminders()
    with activate(records.tenant, user=admin_user, process="tests"):
        update_task(task, due_at=past(minutes=1), acting_user=admin_user)
    assert send_due_reminders() == 1
    assert reminders_of(admin_user) == [(task.pk, False), (task.pk, False)]


def test_an_unassigned_task_is_claimed_but_notifies_nobody(records):
    records.task(assignee=None, due_at=past(minutes=1))
    assert send_due_reminders() == 1
    assert not Notification.all_objects.exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_send_each_reminder_exactly_once(records, admin_user):
    tasks = [records.task(due_at=past(minutes=index + 1)) for index in range(30)]
    barrier = threading.Barrier(4)
    sent = []

    def run():
        barrier.wait()
        try:
            with activate(records.tenant, process="tests:reminders"):
                sent.append(send_reminders(acting_user=None))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(sent) == 30
    assert sorted(pk for pk, _early in reminders_of(admin_user)) == sorted(task.pk for task in tasks)


def test_the_job_runs_on_a_real_worker(celery_worker, records, admin_user):
    task = records.task(due_at=past(minutes=1))
    send_due_reminders.delay()
    for _ in range(100):
        if reminders_of(admin_user):
            break
        threading.Event().wait(0.1)
    assert reminders_of(admin_user) == [(task.pk, False)]


def test_the_claim_finds_due_tasks_through_the_partial_index(records):
    records.task(due_at=past(minutes=1))
    with connection.cursor() as cursor:
        # Many finished tasks and a few waiting: the partial index holds only the waiting ones.
        cursor.execute(
            "INSERT INTO activities_task (tenant_id, title, notes, priority, done, due_at, created_at, updated_at) "
            "SELECT %s, 'Old', '', 'normal', true, now() - interval '1 day', now(), now() "
            "FROM generate_series(1, 5000)",
            [records.tenant.pk],
        )
        cursor.execute("ANALYZE activities_task")
        cursor.execute(
            f"EXPLAIN UPDATE activities_task SET due_notified_at = now() "
            f"WHERE tenant_id = %s AND due_at <= now() AND {PENDING_DUE_SQL}",
            [records.tenant.pk],
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "task_due_pending" in plan, plan
