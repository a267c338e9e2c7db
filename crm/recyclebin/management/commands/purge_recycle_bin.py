from crm.recyclebin.tasks import purge_expired_everywhere
from crm.tenancy.cli import CrmCommand


class Command(CrmCommand):
    help = "Purge recycle-bin items past each tenant's retention period now (the daily task)."

    def handle(self, **options):
        for slug, counts in purge_expired_everywhere("cli:purge_recycle_bin").items():
            if counts is None:
                self.stdout.write(f"{slug}: on legal hold, nothing purged")
            else:
                summary = ", ".join(f"{count} {name}" for name, count in counts.items()) or "nothing"
                self.stdout.write(f"{slug}: purged {summary}")
