from backups.actions import check_customer
from backups.postgres import BackupError
from backups.restore import good_backup, restore_customer, restore_database, restore_tenant
from crm.tenancy.acting import ActionConflict
from crm.tenancy.cli import CrmCommand, fail
from crm.tenancy.context import activate


class Command(CrmCommand):
    help = (
        "Restore a backup: --into-database NAME (whole database into a new database), "
        "--tenant SLUG (one company in place), or --tenant SLUG --customer ID (one customer)."
    )

    def add_arguments(self, parser):
        parser.add_argument("backup_id", type=int)
        parser.add_argument("--into-database", dest="database")
        parser.add_argument("--tenant")
        parser.add_argument("--customer", type=int)

    def handle(self, backup_id, database=None, tenant=None, customer=None, **options):
        if bool(database) == bool(tenant):
            raise fail("Give either --into-database NAME or --tenant SLUG (with --customer ID for one customer).")
        if customer and not tenant:
            raise fail("--customer needs --tenant.")
        try:
            backup = good_backup(backup_id)
            if database:
                run = restore_database(backup, database)
            else:
                target = self.get_tenant(tenant)
                with activate(target, process="cli:restore_backup", reason="restored from backup"):
                    if customer:
                        check_customer(backup, target, customer)  # the backup holds it, and it was not erased
                        run = restore_customer(backup, target, customer)
                    else:
                        run = restore_tenant(backup, target)
        except (BackupError, ActionConflict) as error:
            raise fail(str(error)) from None
        if run.status == run.Status.REFUSED:
            conflicts = run.report.get("conflicts", [])
            first = f" (first: {conflicts[0]})" if conflicts else ""
            raise fail(f"Restore {run.pk}: nothing restored, {len(conflicts)} conflicts with live data{first}.")
        if run.status != run.Status.DONE:
            raise fail(f"Restore {run.pk} failed: {' '.join(run.error.split())}")
        self.stdout.write(f"Restore {run.pk} done: {run.get_scope_display()} {run.target}")
