from django.db import migrations

COLUMNS = ("name", "email", "phone")


def statistics(column: str) -> migrations.RunSQL:
    return migrations.RunSQL(
        f'CREATE STATISTICS IF NOT EXISTS "customer_upper_{column}_stats" '
        f'ON (UPPER("{column}"::text)) FROM "customers_customer"',
        f'DROP STATISTICS IF EXISTS "customer_upper_{column}_stats"',
    )


class Migration(migrations.Migration):
    """Statistics on the expressions search compares (UPPER(name) LIKE '%WORD%').

    Without them PostgreSQL guesses every search word is rare, so for a word
    most customers contain ("customer", "ltd") it reads the trigram index and
    sorts 800,000 matches (seconds) instead of walking the name index until
    the page is full (a millisecond). Nothing reads these objects but the planner.
    """

    dependencies = [("customers", "0006_search_on_upper")]

    operations = [
        *(statistics(column) for column in COLUMNS),
        migrations.RunSQL('ANALYZE "customers_customer"', migrations.RunSQL.noop),
    ]
