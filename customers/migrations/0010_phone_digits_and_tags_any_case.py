"""Search a phone by its digits and filter tags in any case, both through an index (customers.search).

Django wraps "expression opclass" in parentheses, which PostgreSQL refuses, so the
indexes are created by SQL here and Django's state gets the AddIndex operations.
The statistics on UPPER(phone) go: nothing compares that expression any more, and
PostgreSQL keeps statistics of an expression index's expressions by itself.
"""

import django.contrib.postgres.indexes
from django.db import migrations, models

import customers.search

ALIVE = models.Q(("deleted_at__isnull", True))

LOWER_TAGS = """
CREATE FUNCTION customers_lower_tags(tags text[]) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT ARRAY(SELECT lower(tag) FROM unnest(tags) AS tag) $$
"""


class Migration(migrations.Migration):
    dependencies = [("customers", "0009_tenant_keys")]

    operations = [
        migrations.RunSQL(LOWER_TAGS, "DROP FUNCTION customers_lower_tags(text[])"),
        migrations.RemoveIndex(model_name="customer", name="customer_tenant_tags"),
        migrations.AddIndex(
            model_name="customer",
            index=django.contrib.postgres.indexes.GinIndex(
                models.F("tenant"), customers.search.LowerTags("tags"), condition=ALIVE, name="customer_tenant_tags_ci"
            ),
        ),
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    'DROP INDEX "customer_phone_trgm"',
                    'CREATE INDEX "customer_phone_trgm" ON "customers_customer" USING gin '
                    '("tenant_id", UPPER("phone") gin_trgm_ops) WHERE "deleted_at" IS NULL',
                ),
                migrations.RunSQL(
                    'CREATE INDEX "customer_phone_digits_trgm" ON "customers_customer" USING gin '
                    "(\"tenant_id\", regexp_replace(\"phone\", '[^0-9]', '', 'g') gin_trgm_ops) "
                    'WHERE "deleted_at" IS NULL',
                    'DROP INDEX "customer_phone_digits_trgm"',
                ),
            ],
            state_operations=[
                migrations.RemoveIndex(model_name="customer", name="customer_phone_trgm"),
                migrations.AddIndex(
                    model_name="customer",
                    index=django.contrib.postgres.indexes.GinIndex(
                        models.F("tenant"),
                        django.contrib.postgres.indexes.OpClass(
                            customers.search.PhoneDigits("phone"), name="gin_trgm_ops"
                        ),
                        condition=ALIVE,
                        name="customer_phone_digits_trgm",
                    ),
                ),
            ],
        ),
        migrations.RunSQL(
            'DROP STATISTICS IF EXISTS "customer_upper_phone_stats"',
            'CREATE STATISTICS IF NOT EXISTS "customer_upper_phone_stats" '
            'ON (UPPER("phone"::text)) FROM "customers_customer"',
        ),
        migrations.RunSQL('ANALYZE "customers_customer"', migrations.RunSQL.noop),
    ]
