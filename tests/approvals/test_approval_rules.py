"""Four eyes on deletion: what needs approval, who may answer, and what approving, refusing and expiry do."""

import time
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from audit.models import AuditEvent
from crm.approvals import actions
from crm.approvals.actions import OUTCOMES_KEY, take_outcomes
from crm.approvals.gate import ApprovalRequested
from crm.approvals.models import ApprovalRequest
from crm.approvals.tasks import expire_approvals
from crm.recyclebin import actions as recyclebin
from crm.recyclebin.actions import Item
from crm.tenancy.acting import ActionConflict
from crm.tenancy.context import activate
from customers.models import Customer
from tests.approvals.conftest import alive_ids, put_in_bin, requests_of
from tests.factories import make_member
from tests.trail import Trail

Status = ApprovalRequest.Status


def delete_as(user, tenant, customers, reason=""):
    with activate(tenant, user=user):
        return recyclebin.delete(
            Customer.objects.filter(pk__in=[c.pk for c in customers]), acting_user=user, reason=reason
        )


def ask_to_delete(user, tenant, customers, reason="Duplicates from the import"):
    with pytest.raises(ApprovalRequested) as asked:
        delete_as(user, tenant, customers, reason)
    return asked.value.approval


def answer(verb, approval, user, tenant):
    with activate(tenant, user=user):
        return getattr(actions, verb)(approval, acting_user=user)


def test_with_the_setting_off_a_bulk_delete_is_done_at_once(tenant, records, admin_user):
    customers = [records.customer() for _ in range(5)]
    batch = delete_as(admin_user, tenant, customers)
    assert batch.counts["customer"] == 5 and alive_ids(tenant, customers) == set()
    assert requests_of(tenant) == []


def test_up_to_the_threshold_deletes_at_once_above_it_asks(four_eyes, tenant, records, admin_user):
    two = [records.customer() for _ in range(2)]
    assert delete_as(admin_user, tenant, two).counts["customer"] == 2
    three = [records.customer() for _ in range(3)]
    with Trail(tenant) as trail:
        approval = ask_to_delete(admin_user, tenant, three)
    assert alive_ids(tenant, three) == {c.pk for c in three}  # nothing deleted
    assert (approval.kind, approval.count, approval.status) == ("bulk_delete", 3, "pending")
    assert approval.items == [f"customer:{c.pk}" for c in sorted(three, key=lambda c: c.pk)]
    assert approval.reason == "Duplicates from the import" and approval.requested_by == admin_user
    assert trail.events == [("approval_requested", "approvalrequest", str(approval.pk))]
    assert "Duplicates" not in str(trail.event_objects[0].detail)  # no free text in the audit log


def test_every_purge_asks_whatever_the_count(four_eyes, tenant, records, admin_user):
    customer = records.customer()
    put_in_bin(records, customer)
    with activate(tenant, user=admin_user), pytest.raises(ApprovalRequested) as asked:
        recyclebin.purge([Item(Customer, customer.pk)], acting_user=admin_user)
    assert asked.value.approval.kind == "purge" and asked.value.approval.items == [f"customer:{customer.pk}"]
    with activate(tenant):
        assert Customer.deleted.filter(pk=customer.pk).exists()


def test_the_system_and_retention_never_ask(four_eyes, tenant, records):
    customers = [records.customer() for _ in range(4)]
    assert put_in_bin(records, *customers).counts["customer"] == 4
    assert requests_of(tenant) == []


def test_the_requester_cannot_approve_or_refuse_their_own_request(four_eyes, tenant, records, admin_user):
    customers = [records.customer() for _ in range(3)]
    approval = ask_to_delete(admin_user, tenant, customers)
    for verb in ("approve", "refuse"):
        with Trail(tenant) as trail, pytest.raises(PermissionDenied, match="your own request"):
            answer(verb, approval, admin_user, tenant)
        assert [event[0] for event in trail.events] == ["refused"]
    assert requests_of(tenant)[0].status == Status.PENDING
    assert alive_ids(tenant, customers) == {c.pk for c in customers}


def test_approving_runs_the_delete_as_one_batch_naming_both_people(
    four_eyes, tenant, records, admin_user, second_admin
):
    customers = [records.customer() for _ in range(3)]
    records.contact(customers[0])
    approval = ask_to_delete(admin_user, tenant, customers)
    with Trail(tenant) as trail:
        done = answer("approve", approval, second_admin, tenant)
    assert alive_ids(tenant, customers) == set()
    assert done.status == Status.APPROVED and done.decided_by == second_admin
    assert done.result == {"customer": 3, "contact": 1} and done.batch is not None
    granted, deleted = trail.event_objects
    assert (granted.action, granted.actor_id) == ("approval_granted", second_admin.pk)
    assert deleted.action == "delete" and deleted.batch == done.batch and deleted.count == 4
    assert deleted.detail["requested_by"] == admin_user.pk and deleted.detail["approved_by"] == second_admin.pk
    with activate(tenant):
        assert set(Customer.deleted.values_list("deletion_batch", flat=True)) == {done.batch}
        assert Customer.history.filter(history_type="~", id__in=[c.pk for c in customers]).count() == 3
    with activate(tenant, user=admin_user):  # undo works: the batch comes back whole
        assert recyclebin.restore_batch(done.batch, acting_user=admin_user) == {"customer": 3, "contact": 1}
    assert alive_ids(tenant, customers) == {c.pk for c in customers}


def test_approving_a_purge_purges_naming_both_people(four_eyes, tenant, records, admin_user, second_admin):
    customer = records.customer()
    put_in_bin(records, customer)
    with activate(tenant, user=admin_user), pytest.raises(ApprovalRequested) as asked:
        recyclebin.purge([Item(Customer, customer.pk)], acting_user=admin_user)
    with Trail(tenant) as trail:
        done = answer("approve", asked.value.approval, second_admin, tenant)
    assert done.result == {"customer": 1}
    with activate(tenant):
        assert not Customer.all_objects.filter(pk=customer.pk).exists()
    purge = next(event for event in trail.event_objects if event.action == AuditEvent.Action.PURGE)
    assert purge.detail["requested_by"] == admin_user.pk and purge.detail["approved_by"] == second_admin.pk


def test_refusing_changes_nothing_and_a_request_is_answered_once(four_eyes, tenant, records, admin_user, second_admin):
    customers = [records.customer() for _ in range(3)]
    approval = ask_to_delete(admin_user, tenant, customers)
    with Trail(tenant) as trail:
        refused = answer("refuse", approval, second_admin, tenant)
    assert refused.status == Status.REFUSED and refused.decided_by == second_admin
    assert trail.events == [("approval_refused", "approvalrequest", str(approval.pk))]
    assert alive_ids(tenant, customers) == {c.pk for c in customers}
    with pytest.raises(ActionConflict):
        answer("approve", approval, second_admin, tenant)
    assert alive_ids(tenant, customers) == {c.pk for c in customers}


def test_unanswered_requests_expire_and_change_nothing(four_eyes, tenant, records, admin_user, second_admin):
    customers = [records.customer() for _ in range(3)]
    late = ask_to_delete(admin_user, tenant, customers)
    fresh = ask_to_delete(admin_user, tenant, customers)
    with activate(tenant):
        ApprovalRequest.objects.filter(pk=late.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    with pytest.raises(ActionConflict):  # past its time, even before the sweep
        answer("approve", late, second_admin, tenant)
    with Trail(tenant) as trail:
        assert expire_approvals() == 1
    assert [(r.pk, r.status) for r in requests_of(tenant)] == [(late.pk, "expired"), (fresh.pk, "pending")]
    assert [(e.action, e.detail["reason"]) for e in trail.event_objects] == [("approval_refused", "expired")]
    assert alive_ids(tenant, customers) == {c.pk for c in customers}
    assert expire_approvals() == 0


def test_expiry_runs_from_beat(settings):
    assert settings.CELERY_BEAT_SCHEDULE["expire-approvals"]["task"] == "crm.approvals.tasks.expire_approvals"


@pytest.mark.parametrize(
    ("role", "kind", "allowed"),
    [
        ("admin", "bulk_delete", True),
        ("admin", "purge", True),
        ("manager", "bulk_delete", True),
        ("manager", "purge", False),
        ("rep", "bulk_delete", False),
        ("viewer", "bulk_delete", False),
    ],
)
def test_who_may_answer(role, kind, allowed, tenant, admin_user):
    approval = ApprovalRequest(kind=kind, requested_by=admin_user)
    answerer = make_member(tenant, role=role)
    assert actions.may_decide(approval, answerer, role) is allowed
    assert actions.may_decide(approval, admin_user, "admin") is False  # never the requester


def test_a_manager_approves_a_reps_bulk_delete_and_the_rep_can_undo(four_eyes, tenant, records, manager):
    rep = make_member(tenant, "a-rep", role="rep")
    customers = [records.customer(owner=rep) for _ in range(3)]
    approval = ask_to_delete(rep, tenant, customers)
    done = answer("approve", approval, manager, tenant)
    assert alive_ids(tenant, customers) == set()
    with activate(tenant, user=rep):  # deleted as the rep: it is in the rep's own bin
        assert recyclebin.restore_batch(done.batch, acting_user=rep)["customer"] == 3


def test_only_admins_change_the_setting(tenant, manager):
    with activate(tenant, user=manager), pytest.raises(PermissionDenied):
        actions.update_policy(acting_user=manager, enabled=True, bulk_threshold=5, expiry_hours=5)


@pytest.mark.django_db(transaction=True)
def test_beats_expiry_task_runs_on_a_real_worker_and_tells_the_requester(
    four_eyes, tenant, records, admin_user, celery_worker
):
    cache.delete(OUTCOMES_KEY.format(user_id=admin_user.pk))
    customers = [records.customer() for _ in range(3)]
    late = ask_to_delete(admin_user, tenant, customers)
    ApprovalRequest.all_objects.filter(pk=late.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    expire_approvals.delay()
    deadline = time.monotonic() + 30
    while ApprovalRequest.all_objects.get(pk=late.pk).status == Status.PENDING and time.monotonic() < deadline:
        time.sleep(0.2)
    assert ApprovalRequest.all_objects.get(pk=late.pk).status == Status.EXPIRED
    assert alive_ids(tenant, customers) == {c.pk for c in customers}
    assert take_outcomes(admin_user) == [{"id": late.pk, "status": "expired", "kind": "bulk_delete", "count": 3}]
