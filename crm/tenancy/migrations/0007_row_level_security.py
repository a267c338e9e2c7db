from django.db import migrations

from crm.records.migration_ops import TenantWall


class Migration(migrations.Migration):
    dependencies = [("tenancy", "0006_duplicate_check_settings")]

    operations = [TenantWall()]
