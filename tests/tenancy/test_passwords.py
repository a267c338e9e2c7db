"""People change their own password, and reset a forgotten one through a one-time emailed link."""

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from crm.tenancy.signals import password_changed
from tests.conftest import login
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "a-new-stapler-horse"


@pytest.fixture
def sent_signals():
    received = []

    def receive(sender, user, keep_tokens, **kwargs):
        received.append((user.pk, keep_tokens))

    password_changed.connect(receive)
    yield received
    password_changed.disconnect(receive)


def change(client, old=PASSWORD, new=NEW_PASSWORD, **extra):
    data = {"old_password": old, "new_password1": new, "new_password2": new, **extra}
    return client.post(reverse("password_change"), data)


def test_a_password_change_keeps_this_session_and_ends_the_others(tenant, admin_user, sent_signals):
    here, elsewhere = login(admin_user), login(admin_user)
    response = change(here)
    assert response.status_code == 302
    assert here.get(reverse("dashboard")).status_code == 200
    assert elsewhere.get(reverse("dashboard")).status_code == 302
    assert Client().login(username="alice", password=NEW_PASSWORD)
    assert sent_signals == [(admin_user.pk, False)]
    event = AuditEvent.objects.get(tenant=tenant, action=AuditEvent.Action.PASSWORD_CHANGED)
    assert (event.actor_id, event.detail) == (admin_user.pk, {"kept_api_tokens": False})


def test_keep_my_api_tokens_is_passed_on(admin_user, sent_signals):
    change(login(admin_user), keep_tokens="on")
    assert sent_signals == [(admin_user.pk, True)]


def test_a_wrong_old_password_changes_nothing(admin_user, sent_signals):
    response = change(login(admin_user), old="not-it")
    assert response.status_code == 200
    assert "old password was entered incorrectly" in response.content.decode()
    assert sent_signals == []
    assert Client().login(username="alice", password=PASSWORD)


def test_preferences_link_to_the_password_change(admin_user):
    page = login(admin_user).get(reverse("tenancy:preferences")).content.decode()
    assert reverse("password_change") in page


def reset_link(admin_user) -> str:
    admin_user.email = "alice@example.com"
    admin_user.save(update_fields=["email"])
    response = Client().post(reverse("password_reset"), {"email": "alice@example.com"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    return re.search(r"https?://[^/\s]+(/\S+)", mail.outbox[0].body).group(1)


def test_a_reset_link_sets_a_new_password_once_and_clears_a_lockout(tenant, admin_user, settings, sent_signals):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        Client().post(reverse("login"), {"username": "alice", "password": "wrong"})
    link = reset_link(admin_user)
    client = Client()
    form_page = client.get(link, follow=True)
    assert 'data-testid="reset-confirm"' in form_page.content.decode()
    data = {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    done = client.post(form_page.redirect_chain[-1][0], data, follow=True)
    assert 'data-testid="reset-done"' in done.content.decode()
    signed_in = Client().post(reverse("login"), {"username": "alice", "password": NEW_PASSWORD})
    assert signed_in.status_code == 302
    assert 'data-testid="reset-invalid"' in Client().get(link, follow=True).content.decode()
    assert sent_signals == [(admin_user.pk, False)]
    actions = AuditEvent.objects.filter(tenant=tenant, actor=admin_user).values_list("action", flat=True)
    assert {AuditEvent.Action.PASSWORD_RESET, AuditEvent.Action.LOCKOUT_CLEARED} <= set(actions)


def test_an_unknown_address_gets_the_same_answer_and_no_email(admin_user):
    response = Client().post(reverse("password_reset"), {"email": "nobody@example.com"}, follow=True)
    assert 'data-testid="reset-sent"' in response.content.decode()
    assert mail.outbox == []


def test_the_login_page_offers_the_reset():
    assert reverse("password_reset") in Client().get(reverse("login")).content.decode()
