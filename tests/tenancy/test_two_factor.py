"""Two-factor sign-in: enrolment from Preferences, a code after the password, recovery codes, company rules."""

import time

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import AuditEvent
from crm.tenancy.actions import update_tenant_settings
from tests.conftest import login
from tests.factories import PASSWORD, make_member

pytestmark = pytest.mark.django_db


def code_for(device) -> str:
    """The code an authenticator app shows now."""
    return f"{totp(device.bin_key, t0=device.t0, step=device.step, digits=device.digits):06d}"


def next_code(device) -> str:
    """The code of the next 30-second step (a code is accepted once; the app's next one is new)."""
    return f"{totp(device.bin_key, step=device.step, t0=device.t0 - device.step, digits=device.digits):06d}"


def enrol(client):
    page = client.get(reverse("tenancy:mfa_setup")).content.decode()
    assert "<svg" in page and 'data-testid="mfa-key"' in page
    device = TOTPDevice.objects.get(user__username=client.username, confirmed=False)
    response = client.post(reverse("tenancy:mfa_setup"), {"code": code_for(device)})
    assert 'data-testid="mfa-codes"' in response.content.decode()
    return TOTPDevice.objects.get(pk=device.pk), response.context["codes"]


def signed_in(username="alice") -> Client:
    client = Client()
    response = client.post(reverse("login"), {"username": username, "password": PASSWORD})
    assert response.status_code == 302
    return client


@pytest.fixture
def alice(admin_user):
    client = login(admin_user)
    client.username = "alice"
    return client


def test_enrolment_shows_a_qr_code_and_key_and_turns_on_with_the_first_code(tenant, alice):
    device, codes = enrol(alice)
    assert device.confirmed and len(codes) == 10
    assert AuditEvent.objects.filter(tenant=tenant, action=AuditEvent.Action.MFA_ENABLED).count() == 1
    assert 'data-testid="mfa-off"' in alice.get(reverse("tenancy:preferences")).content.decode()


def test_a_wrong_first_code_turns_nothing_on(alice):
    alice.get(reverse("tenancy:mfa_setup"))
    response = alice.post(reverse("tenancy:mfa_setup"), {"code": "000000"})
    assert "That code is not right" in response.content.decode()
    assert not TOTPDevice.objects.filter(confirmed=True).exists()


def test_after_the_password_every_page_waits_for_the_code(alice):
    device, _codes = enrol(alice)
    client = signed_in()
    response = client.get(reverse("customers:list"))
    assert response.status_code == 302 and response.url.startswith(reverse("tenancy:mfa_verify"))
    assert client.get("/api/v1/customers/").status_code == 403
    assert client.get(reverse("admin:index")).status_code == 302
    # Nor can a password alone set up another app or turn it off.
    assert client.get(reverse("tenancy:mfa_setup")).url == reverse("tenancy:mfa_verify")
    client.post(reverse("tenancy:mfa_disable"))
    assert TOTPDevice.objects.filter(pk=device.pk).exists()
    wrong = client.post(reverse("tenancy:mfa_verify"), {"code": "123456"})
    assert "That code is not right" in wrong.content.decode()
    # A wrong code makes the next try wait (one second, doubling with each failure).
    refused = client.post(reverse("tenancy:mfa_verify"), {"code": next_code(device)})
    assert refused.status_code == 200
    time.sleep(1.1)
    done = client.post(reverse("tenancy:mfa_verify") + "?next=/customers/", {"code": next_code(device)})
    assert done.status_code == 302 and done.url == "/customers/"
    assert client.get(reverse("customers:list")).status_code == 200


def test_a_recovery_code_signs_in_once(alice):
    _device, codes = enrol(alice)
    first = signed_in()
    assert first.post(reverse("tenancy:mfa_verify"), {"code": codes[0].upper()}).status_code == 302
    assert first.get(reverse("customers:list")).status_code == 200
    again = signed_in()
    assert again.post(reverse("tenancy:mfa_verify"), {"code": codes[0]}).status_code == 200


def test_turning_it_off_is_audited(tenant, alice):
    enrol(alice)
    alice.post(reverse("tenancy:mfa_disable"))
    assert not TOTPDevice.objects.exists()
    assert AuditEvent.objects.filter(tenant=tenant, action=AuditEvent.Action.MFA_DISABLED).count() == 1
    assert signed_in().get(reverse("customers:list")).status_code == 200


@pytest.mark.parametrize(
    ("rule", "role", "required"),
    [("admins", "admin", True), ("admins", "rep", False), ("everyone", "rep", True), ("", "admin", False)],
)
def test_a_company_requires_it_of_admins_or_everyone(tenant, admin_user, rule, role, required):
    update_tenant_settings(tenant, mfa_required=rule, acting_user=admin_user)
    make_member(tenant, "pat", role=role)
    response = signed_in("pat").get(reverse("customers:list"))
    if required:
        assert response.status_code == 302 and response.url.startswith(reverse("tenancy:mfa_setup"))
    else:
        assert response.status_code == 200


def test_an_admin_sets_the_rule_on_the_company_settings_page(tenant, admin_user):
    client = login(admin_user)
    data = {"retention_days": 30, "mfa_required": "everyone"}
    assert client.post(reverse("company_settings"), data).status_code == 302
    tenant.refresh_from_db()
    assert tenant.mfa_required == "everyone"


def test_when_the_company_requires_it_it_cannot_be_turned_off(tenant, alice, admin_user):
    enrol(alice)
    update_tenant_settings(tenant, mfa_required="everyone", acting_user=admin_user)
    alice.post(reverse("tenancy:mfa_disable"))
    assert TOTPDevice.objects.filter(user=admin_user).exists()


def test_staff_turn_it_off_for_a_lost_phone_in_the_django_admin(tenant, alice, admin_user, django_user_model):
    enrol(alice)
    staff = django_user_model.objects.create_superuser("root", "root@example.com", PASSWORD)
    client = Client()
    client.force_login(staff)
    data = {"action": "turn_off_two_factor", "_selected_action": [admin_user.pk]}
    assert client.post(reverse("admin:auth_user_changelist"), data).status_code == 302
    assert not TOTPDevice.objects.filter(user=admin_user).exists()
    event = AuditEvent.objects.get(tenant=tenant, action=AuditEvent.Action.MFA_DISABLED)
    assert event.detail == {"by": staff.pk}


def test_a_new_company_rule_applies_from_each_persons_next_sign_in(tenant, admin_user):
    make_member(tenant, "pat", role="rep")
    before = signed_in("pat")
    update_tenant_settings(tenant, mfa_required="everyone", acting_user=admin_user)
    assert before.get(reverse("customers:list")).status_code == 200
    assert signed_in("pat").get(reverse("customers:list")).url.startswith(reverse("tenancy:mfa_setup"))
