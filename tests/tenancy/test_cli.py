"""The operator CLI: happy paths, and bad input as one line with exit code 2."""

import subprocess
import sys

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from crm.tenancy.context import activate
from crm.tenancy.models import ApiToken, Membership, Tenant, token_digest
from customers.models import Customer, Ticket
from sales.models import Opportunity

pytestmark = pytest.mark.django_db

STRONG = "a-strong-passphrase-42"


def run(*args):
    call_command(*args)


def fails_with(message, *args):
    with pytest.raises(CommandError) as error:
        call_command(*args)
    assert error.value.returncode == 2
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_create_tenant_makes_the_tenant_and_its_admin():
    run("create_tenant", "globex", "--name", "Globex", "--admin", "hank", "--password", STRONG)
    tenant = Tenant.objects.get(slug="globex")
    assert tenant.name == "Globex"
    assert Membership.objects.get(tenant=tenant, user__username="hank").role == "admin"


def test_create_tenant_refuses_a_duplicate_slug():
    run("create_tenant", "globex", "--name", "Globex", "--admin", "hank", "--password", STRONG)
    fails_with("already exists", "create_tenant", "globex", "--name", "Other", "--admin", "x", "--password", STRONG)


def test_create_tenant_refuses_a_bad_slug_and_a_weak_password():
    fails_with("lower-case", "create_tenant", "Not A Slug", "--name", "X", "--admin", "x", "--password", STRONG)
    fails_with("too short", "create_tenant", "okslug", "--name", "X", "--admin", "x", "--password", "abc")
    assert not Tenant.objects.exists()
    assert not get_user_model().objects.filter(username="x").exists()


def test_create_user_adds_a_membership_to_an_existing_user():
    run("create_tenant", "one", "--name", "One", "--admin", "root1", "--password", STRONG)
    run("create_tenant", "two", "--name", "Two", "--admin", "root2", "--password", STRONG)
    run("create_user", "one", "carol", "--role", "rep", "--password", STRONG)
    run("create_user", "two", "carol", "--role", "viewer")
    assert dict(Membership.objects.filter(user__username="carol").values_list("tenant__slug", "role")) == {
        "one": "rep",
        "two": "viewer",
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope", "dave", "--role", "rep", "--password", STRONG], "Unknown tenant: nope"),
        (["one", "dave", "--role", "king", "--password", STRONG], "Unknown role king"),
        (["one", "dave", "--role", "rep", "--password", "12345678"], "too common"),
        (["one", "dave", "--role", "rep"], "needs a password"),
    ],
)
def test_create_user_bad_input(args, message):
    run("create_tenant", "one", "--name", "One", "--admin", "root1", "--password", STRONG)
    fails_with(message, "create_user", *args)
    assert not get_user_model().objects.filter(username="dave").exists()


def test_api_token_prints_a_new_named_token_each_time_and_stores_only_its_digest(capsys):
    run("create_tenant", "one", "--name", "One", "--admin", "root1", "--password", STRONG)
    run("api_token", "one", "root1")
    first = capsys.readouterr().out.strip().splitlines()[-1]
    run("api_token", "one", "root1", "--name", "nightly export")
    second = capsys.readouterr().out.strip().splitlines()[-1]
    assert first != second
    tokens = ApiToken.objects.filter(user__username="root1").order_by("pk")
    assert [(t.name, t.prefix, t.digest) for t in tokens] == [
        ("manage.py api_token", first[:8], token_digest(first)),
        ("nightly export", second[:8], token_digest(second)),
    ]


def test_api_token_refuses_a_non_member():
    run("create_tenant", "one", "--name", "One", "--admin", "root1", "--password", STRONG)
    run("create_tenant", "two", "--name", "Two", "--admin", "root2", "--password", STRONG)
    fails_with("not a member", "api_token", "one", "root2")
    fails_with("Unknown tenant", "api_token", "zzz", "root1")


def test_seed_demo_is_idempotent():
    run("seed_demo")
    tenant = Tenant.objects.get(slug="acme")
    with activate(tenant):
        counts = (Customer.objects.count(), Opportunity.objects.count(), Ticket.objects.count())
    run("seed_demo")
    with activate(tenant):
        assert (Customer.objects.count(), Opportunity.objects.count(), Ticket.objects.count()) == counts
    assert counts[0] >= 10
    roles = set(Membership.objects.filter(tenant=tenant).values_list("role", flat=True))
    assert roles == {"admin", "manager", "rep", "support", "viewer"}
    with activate(tenant):
        names = " ".join(Customer.objects.values_list("name", flat=True))
    assert "Northwind" in names and "科技" in names


def test_bad_arguments_from_the_shell_print_one_line_and_exit_2(transactional_db, django_db_setup):
    from django.conf import settings

    database = settings.DATABASES["default"]["NAME"]
    env_line = f"import os; os.environ['DATABASE_URL'] = os.environ['DATABASE_URL'].rsplit('/', 1)[0] + '/{database}'"
    code = (
        f"{env_line}; import sys; sys.argv = ['manage.py', 'create_user', 'nowhere', 'eve', '--role', 'rep'];"
        " from manage import main; main()"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip() == "CommandError: Unknown tenant: nowhere"
    assert "Traceback" not in result.stderr
