"""Migration operations Django has no built-in for."""

from django.db import migrations


class AddTenantForeignKey(migrations.RunSQL):
    """FOREIGN KEY (tenant_id, <column>) REFERENCES <parent> (tenant_id, id), deferred like Django's own.

    Used with crm.softdelete.tenant_foreign_key: the database keeps every child in
    its parent's tenant, and checks the key through tenant-first indexes.
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
