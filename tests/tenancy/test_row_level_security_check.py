"""The system check that says when the application's database role passes the wall (docs/rls.md)."""

import pytest
from django.conf import settings
from django.core import checks
from django.db import connection

from crm.tenancy import rls
from tests.conftest import app_role, connecting_as


@pytest.mark.django_db(transaction=True)
def test_no_warning_when_the_application_role_is_held_by_the_wall():
    connection.close()
    with connecting_as(app_role()):
        assert rls.check_role(databases=["default"]) == []
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_a_warning_names_why_the_role_passes_the_wall():
    connection.close()
    with connecting_as(settings.SYSTEM_DATABASE):  # the test server's owner, a superuser
        warnings = rls.check_role(databases=["default"])
        connection.close()
    assert [(type(warning), warning.id) for warning in warnings] == [(checks.Warning, "crm.W030")]
    assert "superuser" in warnings[0].msg and "row-level security" in warnings[0].msg


def test_the_check_runs_only_when_the_database_checks_are_asked_for():
    assert rls.check_role(databases=None) == []
