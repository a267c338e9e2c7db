"""The automatic return to the pool: who is warned and when, once; who is reclaimed and when;
history and audit in bulk; companies with the pool off are left alone."""

from datetime import timedelta

import pytest
from django.utils import timezone

from activities.models import Kind, Notification
from activities.notify import message
from crm.recyclebin.actions import delete
from crm.tenancy.actions import update_tenant_settings
from crm.tenancy.context import activate
from customers.models import Customer
from pool import actions
from pool.models import PoolClaim, PoolWarning
from pool.reclaim import reclaim_idle
from pool.tasks import reclaim_idle_customers
from tests.trail import Trail

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)


def run(tenant, now):
    with activate(tenant, process="tests:reclaim", reason="reclaimed"):
        return reclaim_idle(acting_user=None, now=now)


def aged(customer, days):
    """The customer as if created `days` ago."""
    Customer.all_objects.filter(pk=customer.pk).update(created_at=timezone.now() - days * DAY)
    return customer


def warnings_of(user):
    return list(Notification.all_objects.filter(user=user, kind=Kind.POOL_RECLAIM).values_list("object_id", flat=True))


@pytest.fixture
def idle(rep, records):
    """idle(days, **values): a customer of the rep, created `days` ago, with no interaction."""

    def make(days, **values):
        return aged(records.customer(owner=rep, **values), days)

    return make


def test_the_owner_is_warned_once_a_few_days_before_the_return(rep, pool_tenant, idle):
    fresh, soon, later = idle(10), idle(28, name="Soon Ltd"), idle(26)  # reclaim after 30 days, warn 3 before
    now = timezone.now()
    result = run(pool_tenant, now)
    assert (result.reclaimed, result.warned) == (0, 1)
    assert warnings_of(rep) == [soon.pk]
    notification = Notification.all_objects.get(user=rep, kind=Kind.POOL_RECLAIM)
    assert message(notification) == (
        "Customer “Soon Ltd” returns to the public pool soon: log an interaction to keep it."
    )
    # Once per idle spell: the next runs do not warn again.
    run(pool_tenant, now + timedelta(hours=1))
    run(pool_tenant, now + DAY)
    assert sorted(warnings_of(rep)) == sorted([soon.pk, later.pk])  # `later` reached its warning day
    assert fresh.pk not in warnings_of(rep)


def test_a_warned_customer_returns_to_the_pool_after_the_full_idle_time(rep, pool_tenant, idle, records):
    customer = idle(27, name="Initech")
    now = timezone.now()
    run(pool_tenant, now)
    assert warnings_of(rep) == [customer.pk]
    assert run(pool_tenant, now + 2 * DAY).reclaimed == 0  # 29 days: not yet
    assert Customer.all_objects.get(pk=customer.pk).owner_id == rep.pk

    with Trail(pool_tenant) as trail:
        result = run(pool_tenant, now + 3 * DAY + timedelta(minutes=1))  # 30 days, warned 3 days ago
    assert result.reclaimed == 1
    customer.refresh_from_db()
    assert customer.owner_id is None and customer.version == 2
    assert trail.versions == [("customer", customer.pk, "~", "reclaimed")]
    row = customer.history.latest()
    assert row.owner_id is None and row.history_user_id is None and row.process == "tests:reclaim"
    assert trail.events == [("reclaimed", "customer", "")]
    event = trail.event_objects[0]
    assert event.count == 1 and event.actor_id is None
    assert event.detail == {"ids": [customer.pk], "owners": {str(rep.pk): 1}, "days": 30}


def test_an_interaction_by_the_owner_keeps_the_customer_and_starts_a_new_spell(rep, pool_tenant, idle, records):
    customer = idle(40)
    now = timezone.now()
    records.interaction(customer, author=rep, occurred_at=now - 28 * DAY)
    run(pool_tenant, now)
    assert warnings_of(rep) == [customer.pk]
    records.interaction(customer, author=rep, occurred_at=now + DAY)  # the owner acted on the warning
    assert run(pool_tenant, now + 5 * DAY).reclaimed == 0
    assert Customer.all_objects.get(pk=customer.pk).owner_id == rep.pk
    # The new spell gets its own warning, 27 days after that interaction, and its own return.
    run(pool_tenant, now + 28 * DAY + timedelta(minutes=1))
    assert warnings_of(rep) == [customer.pk, customer.pk]
    assert run(pool_tenant, now + 31 * DAY + timedelta(minutes=2)).reclaimed == 1


def test_only_the_owners_own_interactions_count(rep, pool_tenant, idle, records):
    customer = idle(40)
    now = timezone.now()
    records.interaction(customer, occurred_at=now - DAY)  # by the admin, not the owner
    run(pool_tenant, now - 3 * DAY)
    assert run(pool_tenant, now).reclaimed == 1


def test_a_claim_counts_as_activity(rep, pool_tenant, in_pool, records):
    customer = aged(in_pool(), 100)
    with activate(pool_tenant, user=rep, process="tests"):
        actions.claim_customer(customer.pk, acting_user=rep)
    PoolClaim.all_objects.update(claimed_at=timezone.now() - 20 * DAY)
    assert run(pool_tenant, timezone.now()).warned == 0  # 20 days since the claim
    assert run(pool_tenant, timezone.now() + 8 * DAY).warned == 1


def test_a_customer_given_long_after_its_last_activity_is_warned_before_it_returns(rep, pool_tenant, idle):
    customer = idle(200)
    now = timezone.now()
    assert (run(pool_tenant, now).reclaimed, warnings_of(rep)) == (0, [customer.pk])
    assert run(pool_tenant, now + 2 * DAY).reclaimed == 0
    assert run(pool_tenant, now + 3 * DAY).reclaimed == 1


def test_customers_in_the_pool_deleted_or_in_another_company_are_left_alone(
    rep, pool_tenant, idle, in_pool, records, other_tenant, other_records
):
    update_tenant_settings(other_tenant, pool_enabled=True, acting_user=None)
    theirs = aged(other_records.customer(), 100)
    pooled = aged(in_pool(), 100)
    deleted = idle(100)
    records._run(delete, Customer.all_objects.filter(pk=deleted.pk))
    assert Customer.all_objects.get(pk=deleted.pk).deleted_at is not None
    now = timezone.now()
    run(pool_tenant, now - 5 * DAY)
    assert run(pool_tenant, now).reclaimed == 0
    assert Customer.all_objects.get(pk=theirs.pk).owner_id == other_records.actor.pk
    assert Customer.all_objects.get(pk=deleted.pk).owner_id == rep.pk
    assert Customer.all_objects.get(pk=pooled.pk).owner_id is None
    assert not PoolWarning.all_objects.filter(tenant=other_tenant).exists()


def test_with_the_pool_off_nothing_is_warned_or_reclaimed(tenant, records, admin_user):
    customer = aged(records.customer(), 100)
    now = timezone.now()
    run(tenant, now - 5 * DAY)
    assert run(tenant, now).reclaimed == 0
    assert Customer.all_objects.get(pk=customer.pk).owner_id == admin_user.pk
    assert not Notification.all_objects.filter(kind=Kind.POOL_RECLAIM).exists()


def test_the_beat_job_reclaims_in_every_company_with_the_pool_on(rep, pool_tenant, idle, other_tenant, other_records):
    idle(28)
    theirs = aged(other_records.customer(), 28)  # pool off over there
    assert reclaim_idle_customers.apply().get() == {"reclaimed": 0, "warned": 1}
    assert not PoolWarning.all_objects.filter(customer=theirs).exists()
    assert PoolWarning.all_objects.filter(tenant=pool_tenant).count() == 1


def test_the_job_is_on_the_beat_schedule_hourly(settings):
    from crm.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["pool-reclaim"]
    assert entry["task"] == "pool.tasks.reclaim_idle_customers" and entry["task"] in app.tasks
    assert entry["schedule"].minute == {40} and len(entry["schedule"].hour) == 24


def test_purging_a_customer_takes_its_claims_and_warnings_with_it(rep, pool_tenant, in_pool, admin_user):
    from crm.recyclebin.actions import Item, purge

    customer = aged(in_pool(), 100)
    with activate(pool_tenant, user=rep, process="tests"):
        actions.claim_customer(customer.pk, acting_user=rep)
    PoolClaim.all_objects.update(claimed_at=timezone.now() - 28 * DAY)
    run(pool_tenant, timezone.now())
    assert PoolWarning.all_objects.filter(customer=customer).exists()
    with activate(pool_tenant, user=admin_user, process="tests"):
        delete(Customer.objects.filter(pk=customer.pk), acting_user=admin_user)
        purge([Item(Customer, customer.pk)], acting_user=admin_user)
    assert not Customer.all_objects.filter(pk=customer.pk).exists()
    assert not PoolClaim.all_objects.filter(customer_id=customer.pk).exists()
    assert not PoolWarning.all_objects.filter(customer_id=customer.pk).exists()
