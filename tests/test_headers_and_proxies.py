"""What every answer carries (Content-Security-Policy, Referrer-Policy, Cache-Control) and which
client address the audit trail believes behind a proxy."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from customers.models import Customer
from tests.factories import PASSWORD, RecordMaker

ROOT = Path(__file__).resolve().parent.parent


def directives(response) -> dict[str, str]:
    policy = response["Content-Security-Policy"]
    return {part.split()[0]: part.strip() for part in policy.split(";") if part.strip()}


@pytest.mark.parametrize("path", ["/", "/customers/", "/recycle-bin/", "/audit/", "/accounts/login/"])
def test_every_page_has_a_policy_without_inline_script_or_style(member_client, path):
    client = Client() if path == "/accounts/login/" else member_client("admin")
    response = client.get(path)
    assert response.status_code == 200
    policy = directives(response)
    assert policy["script-src"] == "script-src 'self'"
    assert policy["style-src"] == "style-src 'self'"
    assert policy["object-src"] == "object-src 'none'"
    assert policy["frame-ancestors"] == "frame-ancestors 'none'"
    assert response["Referrer-Policy"] == "same-origin"
    page = response.content.decode()
    assert "<script>" not in page and " style=" not in page and " onchange=" not in page and "hx-on" not in page


def test_signed_in_pages_and_the_api_are_never_stored_but_static_files_may_be(member_client, tenant):
    client = member_client("admin")
    for path in ("/", "/customers/", "/api/v1/whoami/"):
        assert "no-store" in client.get(path)["Cache-Control"], path
    anonymous = Client()
    assert "no-store" in anonymous.get("/api/v1/customers/")["Cache-Control"]
    assert "no-store" not in anonymous.get("/static/crm/crm.css").get("Cache-Control", "")


def test_a_token_call_is_answered_by_the_token_alone(tenant, admin_user):
    """Browser-only steps stand aside for `Authorization: Token` (crm.web.browser_only): no policy
    on the JSON, and a half-finished two-factor sign-in in the same client does not block it."""
    from crm.tenancy.mfa import SESSION_PENDING_KEY
    from tests.api.conftest import token_client

    client = token_client(tenant, admin_user)
    assert client.login(username=admin_user.username, password=PASSWORD)
    session = client.session
    session[SESSION_PENDING_KEY] = True
    session.save()
    response = client.get("/api/v1/customers/")
    assert response.status_code == 200
    assert "Content-Security-Policy" not in response and "no-store" in response["Cache-Control"]
    client.credentials()  # the same session without the token: the two-factor step is due
    assert client.get("/api/v1/customers/").json()["error"]["code"] == "two_factor_required"


def test_the_api_docs_run_their_script_from_a_file(member_client):
    response = member_client("admin").get("/api/docs/")
    assert response.status_code == 200
    assert "<script>" not in response.content.decode()


# -- the client address behind proxies ------------------------------------------------------


def deleted_from(client, tenant, admin_user, **headers) -> str:
    customer = RecordMaker(tenant, admin_user).customer(name="Via a proxy")
    assert client.login(username=admin_user.username, password=PASSWORD)
    response = client.post(
        f"/recycle-bin/delete/customer/?ids={customer.pk}", {"ids": str(customer.pk), "confirm": "1"}, **headers
    )
    assert response.status_code in (302, 303)
    return Customer.history.filter(id=customer.pk, history_change_reason="deleted").get().ip_address


SPOOFED = {"HTTP_X_FORWARDED_FOR": "198.51.100.66"}


def test_without_declared_proxies_the_header_is_ignored(tenant, admin_user, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")  # BEHIND_PROXY=1
    assert deleted_from(Client(REMOTE_ADDR="203.0.113.7"), tenant, admin_user, **SPOOFED) == "203.0.113.7"


def test_one_trusted_proxy_its_appended_address_is_the_client_not_what_the_client_wrote(tenant, admin_user, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    # The client sent "X-Forwarded-For: 198.51.100.66"; the proxy (10.0.0.2) appended the real one.
    headers = {"HTTP_X_FORWARDED_FOR": "198.51.100.66, 203.0.113.7"}
    assert deleted_from(Client(REMOTE_ADDR="10.0.0.2"), tenant, admin_user, **headers) == "203.0.113.7"


def test_trusted_proxy_addresses_are_skipped_from_the_right(tenant, admin_user, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8", "192.0.2.1"]
    headers = {"HTTP_X_FORWARDED_FOR": "198.51.100.66, 203.0.113.7, 192.0.2.1"}
    assert deleted_from(Client(REMOTE_ADDR="10.0.0.2"), tenant, admin_user, **headers) == "203.0.113.7"
    # Connected directly (not from a trusted proxy): the header is the client's own word.
    assert deleted_from(Client(REMOTE_ADDR="203.0.113.9"), tenant, admin_user, **SPOOFED) == "203.0.113.9"


def test_a_garbled_header_records_the_proxy_rather_than_failing(tenant, admin_user, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    headers = {"HTTP_X_FORWARDED_FOR": "not-an-address"}
    assert deleted_from(Client(REMOTE_ADDR="10.0.0.2"), tenant, admin_user, **headers) == "10.0.0.2"


# -- production refuses development secrets --------------------------------------------------


def manage(*args, **environment):
    env = {key: value for key, value in os.environ.items() if key not in {"SECRET_KEY", "SECURE"}}
    env.update(ALLOWED_HOSTS="crm.example.com", **environment)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


STRONG_KEY = "production-secret-key-with-plenty-of-entropy-9f8e7d6c5b4a-0123456789"


def test_production_refuses_to_start_without_a_secret_key():
    result = manage("check", SECURE="1")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_production_refuses_the_default_database_password():
    result = manage("check", SECURE="1", SECRET_KEY=STRONG_KEY, DATABASE_URL="postgres://crm:crm@127.0.0.1:5432/crm")
    assert result.returncode != 0
    assert "well-known password" in result.stderr


def test_deploy_check_names_the_development_key_wherever_it_runs():
    result = manage("check", "--deploy")
    assert result.returncode != 0
    assert "crm.E001" in result.stdout + result.stderr


def test_compose_puts_a_tls_proxy_in_front_of_gunicorn_and_declares_it():
    import yaml

    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    assert "ports" not in services["web"]
    assert services["web"]["environment"]["TRUSTED_PROXY_COUNT"] == 1
    assert services["caddy"]["image"].startswith("caddy:")
    assert "443:443" in services["caddy"]["ports"]
    assert "reverse_proxy web:8000" in (ROOT / "Caddyfile").read_text()
