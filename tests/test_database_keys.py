"""Ready for distribution by tenant: every tenant-owned table is keyed by tenant_id in the database.

Citus distributes a table by one column and needs that column in its primary key and
in every unique constraint. Our rule is stricter: tenant_id is NOT NULL and comes first
in the primary key, in every unique constraint and in every index, and foreign keys
between tenant-owned tables are composite and point at the primary key. The tables
are derived from the models; what they look like is read from pg_catalog, so a
migration that forgets the rule fails here whatever Django's model state says.
"""

import pytest
from django.apps import apps
from django.db import connection
from simple_history.exceptions import NotHistoricalModelError
from simple_history.utils import get_history_model_for_model

from audit.models import AuditEvent
from crm.records.models import PurgePermissionBase
from crm.tenancy.models import TenantModel

pytestmark = pytest.mark.django_db

TENANT = "tenant_id"
# The one exception to "tenant_id first": crm.records.models.id_lookup_index, a transitional
# plain index on `id` of the record tables, for the statements that still find rows by id
# alone (Django's save(), the recycle bin's set-based UPDATEs; see docs/scaling.md).
ID_LOOKUP_SUFFIX = "_id_lookup"

# Tables with a tenant_id column that are not tenant-owned data (see docs/scaling.md):
# looked up before any tenant is known, or bookkeeping of the whole installation.
NOT_TENANT_OWNED = {
    "tenancy_membership": "a user's tenants are listed at login, before a tenant is chosen",
    "tenancy_apitoken": "a token is looked up by its key before the tenant is known",
    "tenancy_invitation": "an invitation link is opened by its key before the tenant is known (often signed out)",
    "backups_restorerun": "the installation's restore log (tenant is only the target of a restore)",
}


def tenant_owned_models() -> dict:
    """{table: model}: TenantModel and PurgePermissionBase subclasses, their history models, AuditEvent."""
    owned = {}
    for model in apps.get_models():
        if model._meta.proxy or not (issubclass(model, TenantModel | PurgePermissionBase) or model is AuditEvent):
            continue
        owned[model._meta.db_table] = model
        try:
            history = get_history_model_for_model(model)
        except NotHistoricalModelError:
            continue
        owned[history._meta.db_table] = history
    return owned


TABLES = sorted(tenant_owned_models())


def fetch(sql: str, params=()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def indexes(table: str) -> list[tuple[str, bool, bool, list]]:
    """(name, primary, unique, key columns in order; None for an expression) of every index."""
    return fetch(
        """
        SELECT i.relname, ix.indisprimary, ix.indisunique,
               ARRAY(SELECT a.attname
                     FROM unnest(ix.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
                     LEFT JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.attnum
                     WHERE k.ord <= ix.indnkeyatts ORDER BY k.ord)
        FROM pg_index ix JOIN pg_class i ON i.oid = ix.indexrelid
        WHERE ix.indrelid = %s::regclass ORDER BY i.relname
        """,
        [table],
    )


def constraint_columns(column: str) -> str:
    """SQL: the names of a pg_constraint row's `conkey` or `confkey` columns, in order."""
    relation = "c.conrelid" if column == "conkey" else "c.confrelid"
    return (
        f"ARRAY(SELECT a.attname FROM unnest(c.{column}) WITH ORDINALITY AS k(attnum, ord) "
        f"JOIN pg_attribute a ON a.attrelid = {relation} AND a.attnum = k.attnum ORDER BY k.ord)"
    )


def test_the_tenant_owned_tables_are_derived_from_the_models():
    assert {
        "customers_customer",
        "customers_contact",
        "customers_interaction",
        "customers_ticket",
        "customers_customershare",
        "sales_opportunity",
        "customers_historicalcustomer",
        "customers_historicalcontact",
        "customers_historicalinteraction",
        "customers_historicalticket",
        "customers_historicalcustomershare",
        "sales_historicalopportunity",
        "customers_customerpurgepermission",
        "customers_contactpurgepermission",
        "customers_interactionpurgepermission",
        "customers_ticketpurgepermission",
        "sales_opportunitypurgepermission",
        "audit_auditevent",
    } <= set(TABLES)


def test_every_table_with_a_tenant_column_is_tenant_owned_or_a_known_exception():
    with_tenant = {
        row[0]
        for row in fetch(
            """
            SELECT c.relname FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace
            JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = %s AND NOT a.attisdropped
            WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
            """,
            [TENANT],
        )
    }
    assert with_tenant - set(TABLES) == set(NOT_TENANT_OWNED)


@pytest.mark.parametrize("table", TABLES)
def test_tenant_id_is_not_null(table):
    assert fetch(
        "SELECT attnotnull FROM pg_attribute WHERE attrelid = %s::regclass AND attname = %s AND NOT attisdropped",
        [table, TENANT],
    ) == [(True,)]


@pytest.mark.parametrize("table", TABLES)
def test_the_primary_key_is_tenant_then_id(table):
    key = tenant_owned_models()[table]._meta.pk.column  # Django's pk: id, or history_id
    assert [columns for _name, is_primary, _unique, columns in indexes(table) if is_primary] == [[TENANT, key]]


@pytest.mark.parametrize("table", TABLES)
def test_every_index_starts_with_tenant_id(table):
    wrong = [
        (name, columns)
        for name, _primary, _unique, columns in indexes(table)
        if columns[0] != TENANT and not name.endswith(ID_LOOKUP_SUFFIX)
    ]
    assert wrong == []


def test_the_id_lookup_indexes_are_plain_non_unique_and_only_on_record_tables():
    from crm.records.registry import record_models

    found = fetch(
        """
        SELECT t.relname, i.relname, ix.indisunique, ix.indisprimary, ix.indpred IS NULL, am.amname,
               ARRAY(SELECT a.attname FROM unnest(ix.indkey::int2[]) AS k(attnum)
                     LEFT JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.attnum)
        FROM pg_index ix
        JOIN pg_class i ON i.oid = ix.indexrelid
        JOIN pg_class t ON t.oid = ix.indrelid
        JOIN pg_am am ON am.oid = i.relam
        WHERE t.relname = ANY(%s) AND i.relname LIKE %s
        ORDER BY 1
        """,
        [TABLES, f"%{ID_LOOKUP_SUFFIX}"],
    )
    record_tables = sorted(model._meta.db_table for model in record_models().values())
    assert [row[0] for row in found] == record_tables
    assert {(*row[2:6], tuple(row[6])) for row in found} == {(False, False, True, "btree", ("id",))}


@pytest.mark.parametrize("table", TABLES)
def test_every_unique_constraint_starts_with_tenant_id_and_none_repeats_the_primary_key(table):
    constraints = fetch(
        f"SELECT c.conname, c.contype, {constraint_columns('conkey')} FROM pg_constraint c "
        "WHERE c.conrelid = %s::regclass AND c.contype IN ('p', 'u', 'x')",
        [table],
    )
    assert [name for name, _type, columns in constraints if columns[0] != TENANT] == []
    primary = [columns for _name, kind, columns in constraints if kind == "p"]
    assert [name for name, kind, columns in constraints if kind != "p" and [columns] == primary] == []
    # Unique indexes made without a constraint count too.
    unique_indexes = [(name, columns) for name, is_primary, unique, columns in indexes(table) if unique]
    assert [name for name, columns in unique_indexes if columns[0] != TENANT] == []


@pytest.mark.parametrize("table", TABLES)
def test_foreign_keys_pointing_here_are_composite_and_use_the_primary_key(table):
    key = tenant_owned_models()[table]._meta.pk.column
    pointing_here = fetch(
        f"""
        SELECT c.conname, c.conrelid::regclass::text, {constraint_columns("conkey")},
               {constraint_columns("confkey")},
               c.conindid = (SELECT indexrelid FROM pg_index WHERE indrelid = c.confrelid AND indisprimary)
        FROM pg_constraint c WHERE c.contype = 'f' AND c.confrelid = %s::regclass
        """,
        [table],
    )
    wrong = [
        row for row in pointing_here if len(row[2]) != 2 or row[2][0] != TENANT or row[3] != [TENANT, key] or not row[4]
    ]
    assert wrong == []


def test_the_known_composite_foreign_keys_exist():
    """The check above passes vacuously if the keys are gone: the children's keys must be there."""
    composite = {
        (child, parent)
        for child, parent in fetch(
            "SELECT conrelid::regclass::text, confrelid::regclass::text FROM pg_constraint "
            "WHERE contype = 'f' AND array_length(confkey, 1) = 2"
        )
    }
    assert {
        ("customers_contact", "customers_customer"),
        ("customers_interaction", "customers_customer"),
        ("customers_interaction", "customers_contact"),
        ("customers_ticket", "customers_customer"),
        ("customers_customershare", "customers_customer"),
        ("sales_opportunity", "customers_customer"),
        ("customers_customerpurgepermission", "customers_customer"),
        ("customers_contactpurgepermission", "customers_contact"),
        ("customers_interactionpurgepermission", "customers_interaction"),
        ("customers_ticketpurgepermission", "customers_ticket"),
        ("sales_opportunitypurgepermission", "sales_opportunity"),
    } <= composite


def primary_key(table: str) -> list:
    return next(columns for _name, is_primary, _unique, columns in indexes(table) if is_primary)


def referenced_index(constraint: str) -> str:
    return fetch("SELECT conindid::regclass::text FROM pg_constraint WHERE conname = %s", [constraint])[0][0]


@pytest.mark.django_db(transaction=True)
def test_tenant_primary_key_migrations_reverse_and_reapply_with_rows_in_place(records):
    from django.db.migrations.executor import MigrationExecutor

    customer = records.customer()
    records.contact(customer)
    records.opportunity(customer)

    def migrate(targets=None):
        executor = MigrationExecutor(connection)
        executor.migrate(targets or executor.loader.graph.leaf_nodes())

    fk = "customers_contact_customer_id_tenant_fk"
    try:
        migrate([("customers", "0008_customer_share_history"), ("sales", "0004_tenant_foreign_keys")])
        assert primary_key("customers_customer") == ["id"]
        assert primary_key("customers_historicalcustomer") == ["history_id"]
        assert referenced_index(fk) == "customer_tenant_key"
    finally:
        migrate()
    assert primary_key("customers_customer") == [TENANT, "id"]
    assert referenced_index(fk) == "customers_customer_pkey"
    assert primary_key("sales_historicalopportunity") == [TENANT, "history_id"]


def test_joins_and_fetches_through_tenant_foreign_keys_carry_tenant_id(records, in_tenant):
    """With the key (tenant_id, id), a join or fetch on id alone could not use it (and on Citus would
    not stay on the tenant's shard): crm.records.models.TenantForeignKey adds the tenant."""
    from django.test.utils import CaptureQueriesContext

    from customers.models import Customer, Ticket

    ticket = records.ticket()
    joined = str(Ticket.objects.select_related("customer").filter(pk=ticket.pk).query)
    assert '"customers_customer"."tenant_id" = ("customers_ticket"."tenant_id")' in joined
    across = str(Customer.objects.filter(tickets__status=ticket.status).query)
    assert '"customers_customer"."tenant_id" = ("customers_ticket"."tenant_id")' in across

    fresh = Ticket.objects.get(pk=ticket.pk)
    with CaptureQueriesContext(connection) as fetched:
        assert fresh.customer == ticket.customer
    (fetch_sql,) = [query["sql"] for query in fetched.captured_queries]
    assert f'"customers_customer"."tenant_id" = {in_tenant.pk}' in fetch_sql
