"""Migration operations Django has no built-in for: tenant-first database keys.

Django's model state keeps `id` (or `history_id`) as the primary key; in the
database the key of a tenant-owned table is (tenant_id, id). That is what Citus
asks of a table distributed by tenant_id, and what composite foreign keys from
child tables point at. A new record type needs, after its CreateModel:

    TenantPrimaryKey("thing"),
    AddTenantForeignKey("app_thingchild", "thing_id", "app_thing"),  # per child key
"""

from contextlib import contextmanager

from django.db import migrations


class AddTenantForeignKey(migrations.RunSQL):
    """FOREIGN KEY (tenant_id, <column>) REFERENCES <parent> (tenant_id, id), deferred like Django's own.

    Used with crm.records.models.tenant_foreign_key: the database keeps every child in
    its parent's tenant, and checks the key through tenant-first indexes. The parent's
    (tenant_id, id) is its primary key (TenantPrimaryKey).
    """

    def __init__(self, table: str, column: str, parent: str):
        name = f"{table}_{column}_tenant_fk"[:63]
        super().__init__(
            sql=(
                f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" FOREIGN KEY ("tenant_id", "{column}") '
                f'REFERENCES "{parent}" ("tenant_id", "id") DEFERRABLE INITIALLY DEFERRED'
            ),
            reverse_sql=f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"',
        )


_REFERENCING = """
SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid), cardinality(c.conkey)
FROM pg_constraint c
WHERE c.contype = 'f' AND c.confrelid = %s::regclass
ORDER BY 1, 2
"""
_PRIMARY_KEY = "SELECT conname FROM pg_constraint WHERE contype = 'p' AND conrelid = %s::regclass"


class TenantPrimaryKey(migrations.operations.base.Operation):
    """In the database only: the primary key of `model_name` becomes (tenant_id, <its pk column>).

    `replaces` names a UNIQUE (tenant, id) constraint of the model that the new key makes
    redundant: it leaves the model state and the database. Foreign keys pointing at the
    table are dropped and re-created with their own definitions, so they bind to the new
    key; a single-column one (it would need `id` alone to stay unique) stops the migration.
    """

    reversible = True
    reduces_to_sql = False

    def __init__(self, model_name: str, replaces: str | None = None):
        self.model_name = model_name
        self.replaces = replaces

    @property
    def model_name_lower(self) -> str:
        return self.model_name.lower()

    def deconstruct(self):
        kwargs = {"replaces": self.replaces} if self.replaces else {}
        return self.__class__.__qualname__, [self.model_name], kwargs

    def describe(self) -> str:
        return f"Primary key of {self.model_name} in the database: (tenant_id, id)"

    @property
    def migration_name_fragment(self) -> str:
        return f"{self.model_name_lower}_tenant_primary_key"

    def state_forwards(self, app_label, state):
        if self.replaces:
            migrations.RemoveConstraint(self.model_name, self.replaces).state_forwards(app_label, state)

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model = to_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        table = model._meta.db_table
        with self._foreign_keys_set_aside(schema_editor, table):
            if self.replaces:
                schema_editor.remove_constraint(model, self._replaced(from_state, app_label))
            self._set_primary_key(schema_editor, table, [model._meta.get_field("tenant").column, model._meta.pk.column])

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        model = to_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        table = model._meta.db_table
        with self._foreign_keys_set_aside(schema_editor, table):
            self._set_primary_key(schema_editor, table, [model._meta.pk.column])
            if self.replaces:
                schema_editor.add_constraint(model, self._replaced(to_state, app_label))

    def _replaced(self, state, app_label):
        options = state.models[app_label, self.model_name_lower].options
        return next(constraint for constraint in options["constraints"] if constraint.name == self.replaces)

    @staticmethod
    def _set_primary_key(schema_editor, table: str, columns: list[str]) -> None:
        quote = schema_editor.quote_name
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(_PRIMARY_KEY, [table])
            (name,) = cursor.fetchone()
        schema_editor.execute(
            f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}, "
            f"ADD CONSTRAINT {quote(name)} PRIMARY KEY ({', '.join(map(quote, columns))})"
        )

    @contextmanager
    def _foreign_keys_set_aside(self, schema_editor, table: str):
        """Drop the foreign keys pointing at `table` for the block, then re-create them as they were."""
        quote = schema_editor.quote_name
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(_REFERENCING, [table])
            keys = cursor.fetchall()
        single = [f"{child}.{name}" for child, name, _definition, width in keys if width < 2]
        if single:
            raise ValueError(
                f"{self.describe()}: single-column foreign keys point at {table}: {', '.join(single)}. "
                "Make them tenant foreign keys (crm.records.models.tenant_foreign_key) first."
            )
        for child, name, _definition, _width in keys:
            schema_editor.execute(f"ALTER TABLE {quote(child)} DROP CONSTRAINT {quote(name)}")
        yield
        for child, name, definition, _width in keys:
            schema_editor.execute(f"ALTER TABLE {quote(child)} ADD CONSTRAINT {quote(name)} {definition}")


class TenantWall(migrations.operations.base.Operation):
    """Row-level security on every table with a tenant_id column that exists now (crm.tenancy.rls).

    It walks the database catalogue rather than the model state, so simple-history's
    historical tables, purge-permission tables and attachment chunks are covered alike;
    tables created by later migrations get the same wall from the post_migrate hook, and
    tests/test_architecture.py fails when a tenant table is left without it.
    """

    reversible = True
    reduces_to_sql = False

    def state_forwards(self, app_label, state):
        pass

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        from crm.tenancy import rls

        with schema_editor.connection.cursor() as cursor:
            rls.build_walls(cursor)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        from crm.tenancy import rls

        with schema_editor.connection.cursor() as cursor:
            rls.remove_walls(cursor)

    def describe(self):
        return "Row-level security on every tenant table"
