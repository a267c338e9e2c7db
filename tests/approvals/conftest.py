"""Deletion approval: a company with the four-eyes setting on, and people to ask and answer."""

import pytest

from crm.approvals.actions import update_policy
from crm.approvals.models import ApprovalRequest
from crm.recyclebin import actions as recyclebin
from crm.tenancy.context import activate
from customers.models import Customer
from tests.api.conftest import api, other_api  # noqa: F401 (fixtures)
from tests.factories import make_member


@pytest.fixture
def four_eyes(tenant):
    """Approval on: more than 2 records at once, and every purge, wait for a second person."""
    with activate(tenant, process="tests"):
        return update_policy(acting_user=None, enabled=True, bulk_threshold=2, expiry_hours=24)


@pytest.fixture
def second_admin(tenant):
    return make_member(tenant, "second-admin", role="admin")


@pytest.fixture
def manager(tenant):
    return make_member(tenant, "the-manager", role="manager")


def alive_ids(tenant, customers) -> set[int]:
    with activate(tenant):
        return set(Customer.objects.filter(pk__in=[c.pk for c in customers]).values_list("pk", flat=True))


def requests_of(tenant) -> list[ApprovalRequest]:
    with activate(tenant):
        return list(ApprovalRequest.objects.order_by("pk"))


def put_in_bin(records, *customers):
    with activate(records.tenant, process="tests"):
        return recyclebin.delete(Customer.objects.filter(pk__in=[c.pk for c in customers]), acting_user=None)
