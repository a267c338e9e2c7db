"""Row-level security: PostgreSQL keeps companies apart even when a query forgets to (docs/rls.md).

These tests connect as the application's role (tests/conftest.py `as_app_role`; CRM_TEST_ROLE=app
runs the whole suite so), not a superuser, so the wall holds them as it holds the application.
"""

import pytest
from django.db import DatabaseError, connection, transaction

from crm.tenancy import rls
from crm.tenancy.context import activate
from customers.models import Customer

pytestmark = pytest.mark.usefixtures("as_app_role")


def forgotten_filter():
    """A query that forgets the company: every alive or dead row the database shows."""
    return sorted(Customer.all_objects.values_list("name", flat=True))


def raw_names():
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM customers_customer ORDER BY name")
        return [name for (name,) in cursor.fetchall()]


@pytest.fixture
def two_companies(records, other_records):
    records.customer(name="Alpha customer")
    other_records.customer(name="Beta customer")
    return records, other_records


def test_the_tests_run_as_a_role_the_wall_holds(db):
    with connection.cursor() as cursor:
        assert rls.bypass_reasons(cursor) == []


def test_a_query_that_forgets_the_tenant_filter_sees_only_the_active_company(two_companies):
    records, other_records = two_companies
    with activate(records.tenant):
        assert forgotten_filter() == ["Alpha customer"]
        assert raw_names() == ["Alpha customer"]
    with activate(other_records.tenant):
        assert forgotten_filter() == ["Beta customer"]
        assert raw_names() == ["Beta customer"]


def test_with_no_company_active_a_forgotten_filter_sees_nothing(two_companies):
    assert forgotten_filter() == []
    assert raw_names() == []
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM customers_historicalcustomer")
        assert cursor.fetchone()[0] == 0


def test_a_row_for_another_company_is_refused(two_companies):
    records, other_records = two_companies
    with activate(records.tenant):
        customer = Customer.objects.get()
        with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
            Customer.all_objects.bulk_create([Customer(tenant=other_records.tenant, name="Smuggled")])
        with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
            Customer.all_objects.filter(pk=customer.pk).update(tenant=other_records.tenant)


def test_updates_and_deletes_that_forget_the_filter_touch_only_the_active_company(two_companies):
    records, other_records = two_companies
    with activate(records.tenant):
        assert Customer.all_objects.update(notes="touched") == 1
    with activate(other_records.tenant):
        assert Customer.all_objects.get().notes != "touched"


def test_the_setting_follows_nested_contexts_and_ends_with_them(two_companies):
    records, other_records = two_companies
    with activate(records.tenant):
        with activate(other_records.tenant):
            assert raw_names() == ["Beta customer"]
        assert raw_names() == ["Alpha customer"]
    assert raw_names() == []


def test_a_rollback_that_undoes_the_setting_is_noticed(two_companies):
    """set_config inside a transaction is undone by its rollback; the next query sets it again."""
    records, other_records = two_companies
    with activate(records.tenant):
        assert raw_names() == ["Alpha customer"]
        with activate(other_records.tenant):
            with pytest.raises(RuntimeError), transaction.atomic():
                assert raw_names() == ["Beta customer"]  # set inside the savepoint ...
                raise RuntimeError  # ... which rolls back: the database is back at Alpha
            assert raw_names() == ["Beta customer"]
            with connection.cursor() as cursor:
                cursor.execute("SELECT current_setting('crm.tenant_id')")
                assert cursor.fetchone()[0] == str(other_records.tenant.pk)


def test_a_new_database_connection_gets_the_setting_too(two_companies):
    records, _ = two_companies
    with activate(records.tenant):
        assert raw_names() == ["Alpha customer"]


@pytest.mark.django_db(transaction=True)
def test_the_setting_survives_commits_and_reconnections(tenant, other_tenant):
    from tests.factories import RecordMaker, make_member

    RecordMaker(tenant, make_member(tenant, "ann")).customer(name="Alpha customer")
    RecordMaker(other_tenant, make_member(other_tenant, "ben")).customer(name="Beta customer")
    with activate(tenant):
        with transaction.atomic():
            assert raw_names() == ["Alpha customer"]  # set inside a transaction that commits
        assert raw_names() == ["Alpha customer"]
        connection.close()
        assert raw_names() == ["Alpha customer"]  # a new connection: set again
    connection.close()
    assert raw_names() == []


@pytest.mark.django_db(transaction=True)
def test_a_company_activated_between_transactions_costs_no_statement_inside_them(tenant, monkeypatch):
    """The company reaches an open connection when activated, where it holds for the session:
    the transactions that follow (an action's writes) send no setting of their own."""
    from tests.factories import RecordMaker, make_member

    maker = RecordMaker(tenant, make_member(tenant, "ann"))
    maker.customer(name="Alpha customer")
    assert raw_names() == []  # the connection holds "no company" now
    set_to = []
    original = rls.apply
    monkeypatch.setattr(rls, "apply", lambda conn, value: (set_to.append(value), original(conn, value)))
    with activate(tenant):
        assert set_to == [str(tenant.pk)]
        for name in ("One", "Two", "Three"):
            with transaction.atomic():
                Customer.objects.filter(name__startswith="Alpha").update(notes=name)
    assert set_to == [str(tenant.pk)]
