from backups.checks import check_backups
from crm.tenancy.cli import CrmCommand, fail


class Command(CrmCommand):
    help = "Check every good backup's file against its recorded checksum; mark the ones that fail as bad."

    def handle(self, **options):
        report = check_backups()
        for backup_id, reason in sorted(report.damaged.items()):
            self.stdout.write(f"DAMAGED: backup {backup_id}: {reason}; the other copy is intact")
        for backup_id, reason in sorted(report.bad.items()):
            self.stdout.write(f"BAD: backup {backup_id}: {reason}")
        if report.bad:
            raise fail(f"{len(report.bad)} of {len(report.checked)} backups failed verification")
        self.stdout.write(f"OK: {len(report.checked)} backups checked")
