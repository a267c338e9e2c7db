"""The pool's company settings: on the settings page with the others, admins only, audited."""

import pytest

from crm.tenancy.actions import update_tenant_settings
from tests.conftest import login
from tests.trail import Trail

pytestmark = pytest.mark.django_db

URL = "/accounts/company/"


def test_the_pool_is_off_until_an_admin_turns_it_on_with_its_limits(tenant, admin_user):
    assert (tenant.pool_enabled, tenant.pool_claims_per_day, tenant.pool_max_held) == (False, 5, 200)
    assert (tenant.pool_reclaim_days, tenant.pool_warn_days) == (30, 3)
    client = login(admin_user)
    page = client.get(URL).content.decode()
    assert "Public pool" in page and 'name="pool_reclaim_days"' in page
    data = {
        "retention_days": "30",
        "pool_enabled": "on",
        "pool_claims_per_day": "2",
        "pool_max_held": "50",
        "pool_reclaim_days": "14",
        "pool_warn_days": "2",
    }
    with Trail(tenant) as trail:
        assert client.post(URL, data).status_code == 302
    tenant.refresh_from_db()
    assert (tenant.pool_enabled, tenant.pool_claims_per_day, tenant.pool_max_held) == (True, 2, 50)
    assert (tenant.pool_reclaim_days, tenant.pool_warn_days) == (14, 2)
    assert trail.events == [("settings", "tenant", str(tenant.pk))]
    assert trail.event_objects[0].detail == {
        "pool_enabled": True,
        "pool_claims_per_day": 2,
        "pool_max_held": 50,
        "pool_reclaim_days": 14,
        "pool_warn_days": 2,
    }


@pytest.mark.parametrize(
    ("values", "error"),
    [
        ({"pool_warn_days": "30"}, "Warn fewer days before the return than the days it takes."),
        ({"pool_reclaim_days": "3", "pool_warn_days": "5"}, "Warn fewer days before the return"),
        ({"pool_claims_per_day": "0"}, "greater than or equal to 1"),
        ({"pool_max_held": "abc"}, "Enter a whole number"),
        ({"pool_reclaim_days": "1\x00"}, "Enter a whole number"),
        ({"pool_reclaim_days": "366"}, "less than or equal to 365"),
    ],
)
def test_bad_pool_settings_are_form_errors(values, error, tenant, admin_user):
    response = login(admin_user).post(URL, {"retention_days": "30", "pool_enabled": "on", **values})
    assert response.status_code == 200
    assert error in response.content.decode()
    tenant.refresh_from_db()
    assert not tenant.pool_enabled


def test_the_action_refuses_a_warning_not_before_the_return(tenant):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        update_tenant_settings(tenant, pool_reclaim_days=5, pool_warn_days=5, acting_user=None)
    tenant.refresh_from_db()
    assert (tenant.pool_reclaim_days, tenant.pool_warn_days) == (30, 3)
