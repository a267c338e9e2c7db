"""Erasures racing each other and legal hold, from real concurrent sessions."""

import threading

import pytest
from django.db import connection
from django.http import Http404

from audit.models import AuditEvent
from crm.records.softdelete import BIN_LOCK_NAMESPACE
from crm.tenancy.context import activate
from customers.models import Contact, Customer
from privacy import actions
from privacy.models import Erasure
from tests.factories import RecordMaker, make_member, make_tenant
from tests.test_retention_resume import other_session, wait_until, waiting_on_a_lock

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def world():
    tenant = make_tenant("erase-race")
    admin = make_member(tenant, "erase-race-admin", role="admin")
    records = RecordMaker(tenant, admin)
    customer = records.customer(name="Zhang Wei")
    records.contact(customer, name="Li Na")
    return tenant, admin, customer


def start(tenant, admin, pk, outcomes):
    def run():
        try:
            with activate(tenant, user=admin):
                actions.erase(Customer, pk, acting_user=admin)
            outcomes.append("erased")
        except Http404:
            outcomes.append("not found")
        except actions.OnLegalHold:
            outcomes.append("on hold")
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_two_sessions_erasing_the_same_customer_erase_it_once(world):
    tenant, admin, customer = world
    blocker = other_session()
    with blocker.cursor() as cursor:  # both wait at the company's lock, then go one after the other
        cursor.execute("SELECT pg_advisory_lock(%s, %s)", [BIN_LOCK_NAMESPACE, tenant.pk])
    outcomes = []
    threads = [start(tenant, admin, customer.pk, outcomes) for _ in range(2)]
    wait_until(lambda: waiting_on_a_lock(blocker))
    with blocker.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [BIN_LOCK_NAMESPACE, tenant.pk])
    for thread in threads:
        thread.join(timeout=30)
    blocker.close()
    assert sorted(outcomes) == ["erased", "not found"]
    assert AuditEvent.objects.filter(tenant=tenant, action=AuditEvent.Action.ERASED).count() == 1
    assert Erasure.all_objects.filter(tenant=tenant).count() == 2  # the customer and its contact


def test_a_hold_switched_on_while_an_erasure_waits_stops_it(world):
    tenant, admin, customer = world
    blocker = other_session()
    with blocker.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s, %s)", [BIN_LOCK_NAMESPACE, tenant.pk])
    outcomes = []
    thread = start(tenant, admin, customer.pk, outcomes)  # it saw no hold, and waits for the lock
    wait_until(lambda: waiting_on_a_lock(blocker))
    with blocker.cursor() as cursor:
        cursor.execute("UPDATE tenancy_tenant SET legal_hold = true WHERE id = %s", [tenant.pk])
        cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [BIN_LOCK_NAMESPACE, tenant.pk])
    thread.join(timeout=30)
    blocker.close()
    assert outcomes == ["on hold"]
    assert Customer.all_objects.filter(pk=customer.pk).exists()
    assert Contact.all_objects.filter(customer_id=customer.pk).exists()
    assert not Erasure.all_objects.exists()
