"""Row-level security on every path that runs code: requests, Celery tasks, commands, system work.

Each test connects as the application's role (not a superuser, not BYPASSRLS, not the owner),
so a path that did not carry its company to the database would find no rows at all.
"""

import time
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from activities.models import Kind, Notification
from activities.tasks import send_due_reminders
from crm.tenancy.context import activate
from customers.models import Customer
from tests.conftest import login
from tests.factories import RecordMaker, make_member

pytestmark = pytest.mark.usefixtures("as_app_role")


def test_a_request_sees_and_changes_only_its_own_company(records, other_records, admin_user):
    mine = records.customer(name="Alpha customer")
    theirs = other_records.customer(name="Beta customer")
    client = login(admin_user)
    listed = client.get("/api/v1/customers/").json()["results"]
    assert [row["name"] for row in listed] == ["Alpha customer"]
    changed = client.patch(f"/api/v1/customers/{mine.pk}/", {"name": "Renamed"}, content_type="application/json")
    assert changed.status_code == 200 and changed.json()["name"] == "Renamed"
    assert client.get(f"/api/v1/customers/{theirs.pk}/").status_code == 404
    with activate(other_records.tenant):
        assert Customer.all_objects.get().name == "Beta customer"


def deleted_long_ago(records, name):
    with time_machine.travel(timezone.now() - timedelta(days=400), tick=False), activate(records.tenant):
        customer = records.customer(name=name)
        customer.delete()


def test_a_command_works_each_company_in_turn_through_the_wall(records, other_records, capsys):
    """Retention across companies (purge_recycle_bin) activates each company: the database
    follows, so each company's expired rows are found and purged, and nothing else."""
    deleted_long_ago(records, "Old alpha")
    deleted_long_ago(other_records, "Old beta")
    records.customer(name="Alive alpha")
    call_command("purge_recycle_bin")
    lines = capsys.readouterr().out.strip().splitlines()
    assert "alpha: purged 1 customer" in lines and "beta: purged 1 customer" in lines
    with activate(records.tenant):
        assert list(Customer.all_objects.values_list("name", flat=True)) == ["Alive alpha"]
    with activate(other_records.tenant):
        assert not Customer.all_objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_celery_task_in_a_worker_carries_each_company_to_the_database(tenant, other_tenant, celery_worker):
    """The worker is a real Celery worker on Redis with its own database connection, as the
    application's role: the reminders of both companies go out."""
    due = timezone.now() - timedelta(minutes=1)
    people = []
    for company in (tenant, other_tenant):
        person = make_member(company, f"rep-{company.slug}", role="rep")
        RecordMaker(company, person).task(title="Call back", assignee=person, due_at=due)
        people.append((company, person))
    send_due_reminders.delay()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        counts = []
        for company, person in people:
            with activate(company):
                counts.append(Notification.all_objects.filter(user=person, kind=Kind.TASK_DUE).count())
        if all(counts):
            break
        time.sleep(0.2)
    assert counts == [1, 1]
    connection.close()
    assert not Notification.all_objects.exists()  # with no company, the database shows none
