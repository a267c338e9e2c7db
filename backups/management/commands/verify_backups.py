from backups.drills import drill
from backups.postgres import BackupError
from backups.restore import good_backup
from crm.tenancy.cli import CrmCommand, fail


class Command(CrmCommand):
    help = "Restore drill: restore the newest good backup into a scratch database and compare row counts."

    def add_arguments(self, parser):
        parser.add_argument("--backup", type=int, help="drill this backup instead of the newest")

    def handle(self, backup=None, **options):
        try:
            result = drill(good_backup(backup))
        except BackupError as error:
            raise fail(str(error)) from None
        if not result.passed:
            detail = result.error or f"{len(result.mismatches)} row-count mismatches, first: {result.mismatches[:1]}"
            self.stdout.write(f"FAILED: backup {result.backup_id}: {detail}")
            raise fail(f"Restore drill of backup {result.backup_id} failed")
        self.stdout.write(f"OK: backup {result.backup_id} restored in {result.restore_seconds:.2f}s, counts match")
