"""The public pool's tests: a company with the pool on, its reps, and customers in the pool."""

import pytest

from crm.tenancy.actions import update_tenant_settings
from tests.factories import make_member


def pool_on(tenant, **values):
    """Turn the company's pool on (through the settings action), with these limits."""
    values.setdefault("pool_enabled", True)
    update_tenant_settings(tenant, acting_user=None, **values)
    tenant.refresh_from_db()
    return tenant


@pytest.fixture
def pool_tenant(tenant):
    return pool_on(tenant, pool_claims_per_day=3, pool_max_held=5, pool_reclaim_days=30, pool_warn_days=3)


@pytest.fixture
def rep(pool_tenant):
    return make_member(pool_tenant, "rita", role="rep")


@pytest.fixture
def other_rep(pool_tenant):
    return make_member(pool_tenant, "ray", role="rep")


@pytest.fixture
def in_pool(records):
    """in_pool(**values): a new customer without an owner (so in the pool)."""

    def make(**values):
        values.setdefault("owner", None)
        return records.customer(**values)

    return make
