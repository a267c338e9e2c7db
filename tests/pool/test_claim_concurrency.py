"""Concurrent claims, on separate connections: of two claims of one customer exactly one wins,
and two claims by one rep never pass the daily limit together."""

import threading
import time

import pytest
from django.db import connection, connections, transaction

from crm.tenancy.acting import ActionConflict
from crm.tenancy.context import activate
from customers.models import Customer
from pool import actions
from pool.models import PoolClaim
from tests.factories import RecordMaker, make_member, make_tenant
from tests.pool.conftest import pool_on

pytestmark = pytest.mark.django_db(transaction=True)


def claim_in_thread(tenant, user, customer_id, outcomes):
    def run():
        try:
            with activate(tenant, user=user, process="tests"):
                actions.claim_customer(customer_id, acting_user=user)
            outcomes.append(("won", user.username))
        except ActionConflict as conflict:
            outcomes.append((conflict.code, user.username))
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def wait_for_waiters(count: int) -> None:
    """Until `count` other sessions of this database wait for a lock (both claims are then in flight)."""
    for _ in range(200):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_stat_clear_snapshot()")  # a transaction otherwise sees one snapshot
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
            if cursor.fetchone()[0] >= count:
                return
        time.sleep(0.05)
    raise AssertionError("the claims never queued up on the lock")


@pytest.fixture
def company():
    tenant = pool_on(make_tenant("conc"), pool_claims_per_day=1, pool_max_held=10)
    admin = make_member(tenant, "ada", role="admin")
    return tenant, RecordMaker(tenant, admin)


def test_two_reps_claiming_one_customer_at_once_exactly_one_wins(company):
    tenant, records = company
    customer = records.customer(owner=None)
    reps = [make_member(tenant, name, role="rep") for name in ("rita", "ray")]
    outcomes = []
    with transaction.atomic():  # hold the customer's row until both claims wait for it
        Customer.all_objects.select_for_update().get(pk=customer.pk)
        threads = [claim_in_thread(tenant, rep, customer.pk, outcomes) for rep in reps]
        wait_for_waiters(2)
    for thread in threads:
        thread.join(30)
    assert sorted(code for code, _ in outcomes) == ["taken", "won"]
    winner = next(name for code, name in outcomes if code == "won")
    customer.refresh_from_db()
    assert customer.owner.username == winner
    assert PoolClaim.all_objects.filter(customer=customer).count() == 1


def test_one_rep_claiming_two_customers_at_once_stays_within_the_daily_limit(company):
    tenant, records = company
    first, second = records.customer(owner=None), records.customer(owner=None)
    rep = make_member(tenant, "rita", role="rep")
    outcomes = []
    with connection.cursor() as cursor:  # hold the rep's claim lock until both claims wait for it
        cursor.execute("SELECT pg_advisory_lock(%s, %s)", [actions.LOCK_NAMESPACE, rep.pk])
        threads = [claim_in_thread(tenant, rep, customer.pk, outcomes) for customer in (first, second)]
        wait_for_waiters(2)
        cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [actions.LOCK_NAMESPACE, rep.pk])
    for thread in threads:
        thread.join(30)
    assert sorted(code for code, _ in outcomes) == ["daily_limit", "won"]
    assert Customer.all_objects.filter(owner=rep).count() == 1
