"""job_finished: whoever started an import written on a worker, or a company or customer restore,
is told when it ends; a bulk owner change tells the new owner (kind assigned)."""

import pytest
from django.urls import reverse

from activities import notify
from activities.models import Kind, Notification
from backups.models import RestoreRun
from backups.restore import _end
from crm.tenancy.context import activate
from customers import actions as customer_actions
from customers.models import Customer
from imports import actions as import_actions
from imports.tasks import work
from tests.backups.helpers import fake_backup, fake_run
from tests.conftest import login
from tests.factories import make_member
from tests.imports.helpers import csv_bytes


def inbox(user):
    return list(
        Notification.all_objects.filter(user=user)
        .order_by("pk")
        .values_list("kind", "object_type", "object_id", "label")
    )


def test_an_import_written_on_a_worker_notifies_who_started_it(records, admin_user):
    rows = [["Name", "Email"], ["Imported One", "one@example.com"], ["Imported Two", "two@example.com"]]
    with activate(records.tenant, user=admin_user):
        job = import_actions.upload(csv_bytes(rows), "people.csv", "customers", acting_user=admin_user)
    other = make_member(records.tenant, role="admin")
    work(records.tenant.pk, job.pk, "preview", other.pk)  # a preview is not the end of an import
    assert inbox(admin_user) == []
    work(records.tenant.pk, job.pk, "run", other.pk)
    assert inbox(admin_user) == [(Kind.JOB_FINISHED, notify.JOB_IMPORT, job.pk, "people.csv")]
    assert inbox(other) == []

    page = login(admin_user).get(reverse("notifications:list")).content.decode()
    assert "Your import “people.csv” has finished." in page
    assert reverse("imports:detail", args=[job.pk]) in page


@pytest.mark.parametrize("status", [RestoreRun.Status.DONE, RestoreRun.Status.FAILED])
def test_a_company_restore_notifies_the_admin_who_started_it_however_it_ends(records, admin_user, backup_dir, status):
    backup = fake_backup(backup_dir)
    run = fake_run(backup, records.tenant, phase="merging", created_by=admin_user)
    _end(run, status)  # from the worker, or from the sweep of dead runs: no company active
    [(kind, object_type, object_id, label)] = inbox(admin_user)
    assert (kind, object_type, object_id) == (Kind.JOB_FINISHED, notify.JOB_RESTORE, run.pk)
    page = login(admin_user).get(reverse("notifications:list")).content.decode()
    assert f"Your restore from the backup of {label} has finished." in page
    assert reverse("backups:restore_status", args=[run.pk]) in page


def test_a_whole_database_restore_notifies_nobody(records, admin_user, backup_dir):
    run = fake_run(
        fake_backup(backup_dir), None, phase="merging", scope=RestoreRun.Scope.DATABASE, created_by=admin_user
    )
    _end(run, RestoreRun.Status.DONE)
    assert not Notification.all_objects.exists()


def test_a_bulk_owner_change_notifies_the_new_owner_of_each_customer(records, admin_user):
    rep = make_member(records.tenant, role="rep")
    few = [records.customer(name=f"Few {n}") for n in range(3)]
    with activate(records.tenant, user=admin_user):
        chosen = Customer.objects.filter(pk__in=[customer.pk for customer in few])
        assert customer_actions.bulk_assign_owner(chosen, rep, acting_user=admin_user) == 3
    assert inbox(rep) == [(Kind.ASSIGNED, "customer", customer.pk, customer.name) for customer in few]
    page = login(rep).get(reverse("notifications:list")).content.decode()
    assert "The customer “Few 0” is now assigned to you." in page


def test_a_big_bulk_owner_change_is_one_notification_saying_how_many(records, admin_user):
    rep = make_member(records.tenant, role="rep")
    many = [records.customer() for _ in range(customer_actions.ASSIGNED_ONE_BY_ONE + 2)]
    with activate(records.tenant, user=admin_user):
        customer_actions.bulk_assign_owner(
            Customer.objects.filter(pk__in=[customer.pk for customer in many]), rep, acting_user=admin_user
        )
        # Given to oneself, or to nobody: no news.
        customer_actions.bulk_assign_owner(Customer.objects.filter(pk=many[0].pk), admin_user, acting_user=admin_user)
        customer_actions.bulk_assign_owner(Customer.objects.filter(pk=many[1].pk), None, acting_user=admin_user)
    assert inbox(rep) == [(Kind.ASSIGNED, "customer", None, str(len(many)))]
    assert inbox(admin_user) == []
    page = login(rep).get(reverse("notifications:list")).content.decode()
    assert f"{len(many)} customers are now assigned to you." in page
    assert f"{reverse('customers:list')}?owner={rep.pk}" in page


def test_the_bulk_assign_page_action_notifies_too(records, admin_user):
    rep = make_member(records.tenant, role="rep")
    customer = records.customer()
    response = login(admin_user).post(
        reverse("customers:bulk"), {"action": "assign_owner", "ids": [customer.pk], "owner": rep.pk}
    )
    assert response.status_code == 302
    assert inbox(rep) == [(Kind.ASSIGNED, "customer", customer.pk, customer.name)]
