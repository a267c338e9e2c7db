"""Failed sign-ins are throttled per account and per address, before any password is hashed."""

import time
from contextlib import ExitStack
from datetime import timedelta

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from crm.tenancy.signin import hashing_slot
from tests.conftest import login
from tests.e2e.conftest import zh_translation
from tests.factories import PASSWORD, make_member

pytestmark = pytest.mark.django_db
LIMIT = 5


class CountingHasher(MD5PasswordHasher):
    """The tests' fast hasher, counting how often a password is checked."""

    verified = 0

    def verify(self, password, encoded):
        CountingHasher.verified += 1
        return super().verify(password, encoded)


@pytest.fixture(autouse=True)
def counting_hasher(settings):
    settings.PASSWORD_HASHERS = [f"{__name__}.CountingHasher"]
    settings.AXES_FAILURE_LIMIT = LIMIT
    CountingHasher.verified = 0
    return CountingHasher


def sign_in(username, password, address="198.51.100.7", path=None, client=None):
    client = client or Client(REMOTE_ADDR=address)
    return client.post(path or reverse("login"), {"username": username, "password": password})


def fail(username, times, address="198.51.100.7", path=None):
    return [sign_in(username, "wrong", address, path).status_code for _ in range(times)]


def test_the_account_locks_at_the_limit_and_refuses_even_the_right_password_unhashed(admin_user, counting_hasher):
    assert fail("alice", LIMIT) == [200] * (LIMIT - 1) + [429]
    checked = counting_hasher.verified
    response = sign_in("alice", PASSWORD)
    assert response.status_code == 429
    assert counting_hasher.verified == checked
    assert "Signing in is locked after 5 failed attempts." in response.content.decode()


def test_the_lock_is_per_account_from_any_address(admin_user):
    for number in range(LIMIT):
        sign_in("alice", "wrong", address=f"198.51.100.{number + 10}")
    assert sign_in("alice", PASSWORD, address="192.0.2.1").status_code == 429


def test_an_address_that_tries_many_accounts_is_locked_for_all_of_them(tenant, admin_user):
    make_member(tenant, "carol")
    for name in ["x1", "x2", "x3", "x4", "x5"]:
        sign_in(name, "wrong", address="203.0.113.9")
    assert sign_in("carol", PASSWORD, address="203.0.113.9").status_code == 429
    assert sign_in("carol", PASSWORD, address="203.0.113.10").status_code == 302


def test_the_admin_login_counts_and_refuses_too(admin_user):
    path = reverse("admin:login")
    assert fail("alice", LIMIT, path=path)[-1] == 429
    assert sign_in("alice", PASSWORD, path=path).status_code == 429
    assert sign_in("alice", PASSWORD).status_code == 429


def test_each_lockout_is_one_audit_event_in_the_persons_company(tenant, admin_user):
    fail("alice", LIMIT + 3)
    events = AuditEvent.objects.filter(tenant=tenant, action=AuditEvent.Action.LOCKOUT)
    assert [(event.actor_id, event.detail["failures"]) for event in events] == [(admin_user.pk, LIMIT)]


def test_the_lock_ends_by_itself_after_the_cool_off(settings, admin_user):
    settings.AXES_COOLOFF_TIME = timedelta(seconds=1)
    fail("alice", LIMIT)
    time.sleep(1.1)
    assert sign_in("alice", PASSWORD).status_code == 302


def test_the_lockout_page_is_in_chinese_for_a_chinese_browser(admin_user):
    fail("alice", LIMIT)
    client = Client(REMOTE_ADDR="198.51.100.7", HTTP_ACCEPT_LANGUAGE="zh-hans")
    page = sign_in("alice", PASSWORD, client=client).content.decode()
    assert 'lang="zh-hans"' in page
    # The catalogue's Chinese once the messages are translated (tr-signin.json), the English until then.
    assert (zh_translation("Sign-in locked") or "Sign-in locked") in page


def test_a_company_admin_sees_a_locked_member_and_clears_the_lock(tenant, admin_user):
    carol = make_member(tenant, "carol", role="rep")
    fail("carol", LIMIT)
    admin = login(admin_user)
    page = admin.get(reverse("company_settings")).content.decode()
    assert 'data-testid="locked-members"' in page and "carol" in page
    response = admin.post(reverse("clear_member_lock", args=[carol.pk]))
    assert response.status_code == 302
    assert sign_in("carol", PASSWORD, address="192.0.2.44").status_code == 302
    cleared = AuditEvent.objects.get(tenant=tenant, action=AuditEvent.Action.LOCKOUT_CLEARED)
    assert (cleared.actor_id, cleared.object_id, cleared.detail) == (carol.pk, str(carol.pk), {"by": admin_user.pk})


def test_a_member_who_is_not_admin_cannot_clear_a_colleagues_lock(tenant, admin_user):
    make_member(tenant, "dave", role="rep")
    fail("alice", LIMIT)
    response = login(make_member(tenant, "erin", role="manager")).post(
        reverse("clear_member_lock", args=[admin_user.pk])
    )
    assert response.status_code == 403
    assert sign_in("alice", PASSWORD, address="192.0.2.45").status_code == 429


def test_an_admin_of_another_company_cannot_clear_the_lock(admin_user, other_tenant):
    fail("alice", LIMIT)
    outsider = login(make_member(other_tenant, "mallory"))
    assert outsider.post(reverse("clear_member_lock", args=[admin_user.pk])).status_code == 404


def test_staff_clear_a_lock_in_the_django_admin(tenant, admin_user, django_user_model):
    staff = django_user_model.objects.create_superuser("root", "root@example.com", PASSWORD)
    fail("alice", LIMIT)
    client = Client()
    client.force_login(staff)
    response = client.post(
        reverse("admin:auth_user_changelist"), {"action": "clear_sign_in_lock", "_selected_action": [admin_user.pk]}
    )
    assert response.status_code == 302
    assert sign_in("alice", PASSWORD, address="192.0.2.46").status_code == 302
    assert AuditEvent.objects.filter(tenant=tenant, action=AuditEvent.Action.LOCKOUT_CLEARED).count() == 1


def test_concurrent_sign_ins_from_one_address_beyond_the_bound_are_refused_before_hashing(
    settings, admin_user, counting_hasher
):
    address = "198.51.100.99"
    with ExitStack() as held:
        for _ in range(settings.SIGNIN_CONCURRENT_HASHES):
            held.enter_context(hashing_slot(address))
        response = sign_in("alice", PASSWORD, address=address)
        assert counting_hasher.verified == 0
        assert "Too many sign-ins from your address at once" in response.content.decode()
        assert sign_in("alice", PASSWORD, address="198.51.100.100").status_code == 302
    assert sign_in("alice", PASSWORD, address=address).status_code == 302
