from django.db import migrations

from crm.records.migration_ops import TenantWall


class Migration(migrations.Migration):
    dependencies = [("tenancy", "0004_people_invitations_and_deactivation")]

    operations = [TenantWall()]
