"""Logging in and out, and users without a membership."""

import pytest
from django.test import Client
from django.urls import reverse

from crm.tenancy.models import Membership
from tests.conftest import login
from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.django_db


def test_the_login_page_is_served():
    response = Client().get(reverse("login"))
    assert response.status_code == 200
    assert 'name="password"' in response.content.decode()


def test_pages_require_login():
    response = Client().get(reverse("customers:list"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_a_member_logs_in_and_lands_on_the_dashboard(admin_user):
    response = Client().post(reverse("login"), {"username": "alice", "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("dashboard")
    assert "Alpha Ltd" in response.content.decode()


def test_a_wrong_password_keeps_the_username_and_says_why(admin_user):
    response = Client().post(reverse("login"), {"username": "alice", "password": "wrong"})
    page = response.content.decode()
    assert response.status_code == 200
    assert 'value="alice"' in page
    assert "correct username and password" in page


def test_logout_ends_the_session(admin_user):
    client = login(admin_user)
    client.post(reverse("logout"))
    assert client.get(reverse("dashboard")).status_code == 302


def test_a_user_without_membership_sees_a_clear_page():
    client = login(make_user("drifter"))
    response = client.get(reverse("dashboard"))
    assert response.status_code == 403
    assert "not a member of any company" in response.content.decode()


def test_a_removed_membership_ends_the_session_on_the_next_request(admin_user):
    client = login(admin_user)
    assert client.get(reverse("customers:list")).status_code == 200
    Membership.objects.filter(user=admin_user).delete()
    response = client.get(reverse("customers:list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert "_auth_user_id" not in client.session


def test_a_user_without_any_membership_gets_the_no_membership_page():
    client = login(make_user())
    response = client.get(reverse("customers:list"))
    assert response.status_code == 403
    assert "not a member of any company" in response.content.decode()


def test_the_health_check_answers():
    assert Client().get("/healthz").json() == {"status": "ok"}
