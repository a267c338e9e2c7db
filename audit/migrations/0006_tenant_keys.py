"""audit_auditevent is tenant-owned: tenant_id NOT NULL, database primary key (tenant_id, id).

The system events left in 0005_move_system_events; their partial unique key on seq goes too.
"""

import django.db.models.deletion
from django.db import migrations, models

from crm.records.migration_ops import TenantPrimaryKey


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0005_move_system_events"),
        ("tenancy", "0001_initial"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="auditevent", name="auditevent_system_seq_uniq"),
        migrations.AlterField(
            model_name="auditevent",
            name="tenant",
            field=models.ForeignKey(
                db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name="+", to="tenancy.tenant"
            ),
        ),
        TenantPrimaryKey("auditevent"),
    ]
