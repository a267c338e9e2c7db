from backups import actions
from backups.models import Backup
from backups.postgres import BackupError
from crm.tenancy.acting import ActionConflict
from crm.tenancy.cli import CrmCommand, fail


class Command(CrmCommand):
    help = "Take one verified backup now; prints `Backup <id> <path>` as the last line."

    def handle(self, **options):
        try:
            backup = actions.back_up(kind=Backup.Kind.MANUAL, acting_user=None)
        except (ActionConflict, BackupError) as error:
            raise fail(str(error)) from None
        if backup.status != Backup.Status.GOOD:
            raise fail(f"Backup {backup.pk} failed: {backup.error}")
        self.stdout.write(f"Backup {backup.pk} {backup.path}")
