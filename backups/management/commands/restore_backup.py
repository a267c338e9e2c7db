from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from backups import actions
from backups.actions import check_customer
from backups.postgres import BackupError
from backups.restore import good_backup, restore_customer, restore_database, restore_tenant
from crm.tenancy.acting import ActionConflict
from crm.tenancy.cli import CrmCommand, fail
from crm.tenancy.context import activate


class Command(CrmCommand):
    help = (
        "Restore a backup: --into-database NAME (whole database into a new database), "
        "--tenant SLUG (one company in place), or --tenant SLUG --customer ID (one customer). Instead of a "
        'backup id, --to-time "2026-11-26T14:32:00+08:00" restores the database as it was at that moment '
        "(point-in-time recovery from the base backups and the WAL archive)."
    )

    def add_arguments(self, parser):
        parser.add_argument("backup_id", type=int, nargs="?")
        parser.add_argument("--to-time", dest="moment", help="An ISO 8601 moment with its time zone offset.")
        parser.add_argument("--into-database", dest="database")
        parser.add_argument("--tenant")
        parser.add_argument("--customer", type=int)

    def handle(self, backup_id=None, database=None, tenant=None, customer=None, moment=None, **options):
        if (backup_id is None) == (moment is None):
            raise fail("Give either a backup id or --to-time MOMENT.")
        if bool(database) == bool(tenant):
            raise fail("Give either --into-database NAME or --tenant SLUG (with --customer ID for one customer).")
        if customer and not tenant:
            raise fail("--customer needs --tenant.")
        if database and moment is not None:  # before the recovery, which takes minutes
            try:
                actions.check_database_name(database)
            except ValidationError as error:
                raise fail(" ".join(error.messages)) from None
        try:
            backup = good_backup(backup_id) if moment is None else self.recovered(moment)
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

    def recovered(self, text: str):
        try:
            moment = parse_datetime(text.strip())
        except ValueError:
            moment = None
        if moment is None or timezone.is_naive(moment):
            raise fail(f"Not a moment with a time zone: {text!r} (e.g. 2026-11-26T14:32:00+08:00).")
        with activate(None, process="cli:restore_backup", reason=f"point-in-time recovery to {text}"):
            backup = actions.recover_to(moment, acting_user=None)
        self.stdout.write(f"Backup {backup.pk}: the database as it was at {moment.isoformat()}")
        return backup
