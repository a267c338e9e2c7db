"""Preferences -> API tokens (one's own) and Company settings -> API tokens (admins)."""

import re

import pytest
from django.urls import reverse

from crm.tenancy.actions import create_api_token
from crm.tenancy.models import ApiToken
from tests.conftest import login
from tests.factories import make_member

pytestmark = pytest.mark.django_db

KEY = re.compile(r'data-testid="new-token-key">([0-9a-f]{40})<')


def shown_key(response) -> str | None:
    found = KEY.search(response.content.decode())
    return found.group(1) if found else None


def test_preferences_lead_to_one_s_tokens(admin_user):
    page = login(admin_user).get(reverse("tenancy:preferences")).content.decode()
    assert reverse("tenancy:tokens") in page


def test_a_token_made_on_the_page_shows_its_key_once_then_only_its_prefix(admin_user):
    browser = login(admin_user)
    response = browser.post(reverse("tenancy:tokens"), {"name": "reports", "scope": "read", "expires_at": ""})
    key = shown_key(response)
    assert key and response.headers["Cache-Control"].startswith("max-age=0")
    token = ApiToken.objects.get(name="reports")
    assert (token.prefix, token.scope, token.user) == (key[:8], "read", admin_user)
    later = browser.get(reverse("tenancy:tokens")).content.decode()
    assert key not in later and f"{token.prefix}…" in later


def test_bad_input_on_the_page_is_a_form_error(admin_user):
    response = login(admin_user).post(
        reverse("tenancy:tokens"), {"name": "x", "scope": "write", "expires_at": "2001-01-01T00:00"}
    )
    assert response.status_code == 200 and "future" in response.content.decode()
    assert not ApiToken.objects.exists()


def test_rotate_and_revoke_on_the_page(tenant, admin_user):
    token = create_api_token(tenant, admin_user, name="sync", acting_user=None)
    browser = login(admin_user)
    new_key = shown_key(browser.post(reverse("tenancy:rotate_token", args=[token.pk])))
    new = ApiToken.objects.get(prefix=new_key[:8])
    assert new.name == "sync" and ApiToken.objects.get(pk=token.pk).revoked_at is not None
    browser.post(reverse("tenancy:revoke_token", args=[new.pk]))
    assert ApiToken.objects.alive().count() == 0


def test_admins_see_and_revoke_every_member_s_tokens(tenant, admin_user):
    rep = make_member(tenant, "rita", role="rep")
    token = create_api_token(tenant, rep, name="rita's phone", acting_user=None)
    browser = login(admin_user)
    assert reverse("company_tokens") in browser.get(reverse("company_settings")).content.decode()
    page = browser.get(reverse("company_tokens")).content.decode()
    assert "rita" in page and "rita&#x27;s phone" in page
    browser.post(reverse("tenancy:revoke_token", args=[token.pk]), {"next": reverse("company_tokens")})
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None


def test_others_see_neither_the_company_s_tokens_nor_another_s(tenant, admin_user):
    token = create_api_token(tenant, admin_user, name="admin's", acting_user=None)
    browser = login(make_member(tenant, "rita", role="manager"))
    assert browser.get(reverse("company_tokens")).status_code == 403
    assert browser.post(reverse("tenancy:revoke_token", args=[token.pk])).status_code == 404
    assert browser.post(reverse("tenancy:rotate_token", args=[token.pk])).status_code == 404
    assert "admin&#x27;s" not in browser.get(reverse("tenancy:tokens")).content.decode()
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None
