"""Company settings: recycle-bin retention and legal hold, admins only."""

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from crm.tenancy.actions import update_tenant_settings
from tests.conftest import login
from tests.factories import make_member, make_user

URL = "/accounts/company/"


def test_the_url_name():
    assert reverse("company_settings") == URL


def test_an_admin_sees_the_current_settings(tenant, admin_user):
    tenant.retention_days = 45
    tenant.save()
    response = login(admin_user).get(URL)
    assert response.status_code == 200
    text = response.content.decode()
    assert 'name="retention_days"' in text and 'value="45"' in text
    assert 'name="legal_hold"' in text
    assert 'data-testid="save-settings"' in text


def test_an_admin_changes_retention_and_legal_hold(tenant, other_tenant, admin_user):
    client = login(admin_user)
    response = client.post(URL, {"retention_days": "90", "legal_hold": "on"})
    assert response.status_code == 302 and response.url == URL
    tenant.refresh_from_db()
    assert (tenant.retention_days, tenant.legal_hold) == (90, True)
    other_tenant.refresh_from_db()
    assert (other_tenant.retention_days, other_tenant.legal_hold) == (30, False)
    assert "The company settings were saved." in client.get(URL).content.decode()

    client.post(URL, {"retention_days": "7"})  # an unticked box turns the hold off
    tenant.refresh_from_db()
    assert (tenant.retention_days, tenant.legal_hold) == (7, False)


def test_the_bin_header_shows_the_current_retention(tenant, admin_user):
    client = login(admin_user)
    client.post(URL, {"retention_days": "12"})
    assert "stay in the recycle bin for 12 days" in client.get(reverse("bin:list")).content.decode()
    client.post(URL, {"retention_days": "12", "legal_hold": "on"})
    assert "on legal hold" in client.get(reverse("bin:list")).content.decode()


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("0", "greater than or equal to 1"),
        ("366", "less than or equal to 365"),
        ("-3", "greater than or equal to 1"),
        ("abc", "Enter a whole number"),
        ("", "This field is required"),
        ("1\x00", "Enter a whole number"),
        ("99999999999999999999", "less than or equal to 365"),
    ],
)
def test_retention_must_be_1_to_365_days(value, error, tenant, admin_user):
    response = login(admin_user).post(URL, {"retention_days": value, "legal_hold": "on"})
    assert response.status_code == 200
    text = response.content.decode()
    assert error in text and "is-invalid" in text
    tenant.refresh_from_db()
    assert (tenant.retention_days, tenant.legal_hold) == (30, False)


@pytest.mark.parametrize("role", ["manager", "rep", "support", "viewer"])
def test_only_admins_may_open_or_change_the_settings(role, tenant):
    client = login(make_member(tenant, role=role))
    assert client.get(URL).status_code == 403
    assert client.post(URL, {"retention_days": "1", "legal_hold": "on"}).status_code == 403
    tenant.refresh_from_db()
    assert (tenant.retention_days, tenant.legal_hold) == (30, False)
    assert 'data-testid="nav-company-settings"' not in client.get(reverse("dashboard")).content.decode()


def test_the_menu_links_admins_to_the_settings(admin_user):
    assert 'data-testid="nav-company-settings"' in login(admin_user).get(reverse("dashboard")).content.decode()


def test_someone_without_a_company_gets_403(db):
    assert login(make_user()).get(URL).status_code == 403


def test_anonymous_visitors_are_sent_to_log_in(db):
    response = Client().get(URL)
    assert response.status_code == 302 and "/accounts/login/" in response.url


def test_an_admin_changes_only_their_current_company(tenant, other_tenant, admin_user):
    make_member(other_tenant, admin_user.username, role="viewer")  # alice is a viewer over there
    client = login(admin_user)
    client.post("/accounts/switch/", {"tenant": other_tenant.slug})
    assert client.post(URL, {"retention_days": "3"}).status_code == 403
    client.post("/accounts/switch/", {"tenant": tenant.slug})
    assert client.post(URL, {"retention_days": "3"}).status_code == 302
    tenant.refresh_from_db()
    other_tenant.refresh_from_db()
    assert (tenant.retention_days, other_tenant.retention_days) == (3, 30)


def test_the_action_validates_and_leaves_the_callers_object_alone(tenant):
    with pytest.raises(ValidationError):
        update_tenant_settings(tenant, retention_days=400, legal_hold=True, acting_user=None)
    assert (tenant.retention_days, tenant.legal_hold) == (30, False)
    tenant.refresh_from_db()
    assert (tenant.retention_days, tenant.legal_hold) == (30, False)
    saved = update_tenant_settings(tenant, retention_days=200, legal_hold=True, acting_user=None)
    tenant.refresh_from_db()
    assert (saved.retention_days, tenant.retention_days, tenant.legal_hold) == (200, 200, True)
