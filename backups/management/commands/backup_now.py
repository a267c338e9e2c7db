from backups.dump import take_backup
from backups.models import Backup
from backups.postgres import BackupError
from backups.retention import apply_retention
from crm.tenancy.cli import CrmCommand, fail


class Command(CrmCommand):
    help = "Take one verified backup now; prints `Backup <id> <path>` as the last line."

    def handle(self, **options):
        try:
            backup = take_backup(Backup.Kind.MANUAL)
        except BackupError as error:
            raise fail(str(error)) from None
        if backup.status != Backup.Status.GOOD:
            raise fail(f"Backup {backup.pk} failed: {backup.error}")
        apply_retention()
        self.stdout.write(f"Backup {backup.pk} {backup.path}")
