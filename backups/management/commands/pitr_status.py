from django.core.management.base import CommandError

from backups import basebackup, wal
from crm.tenancy.cli import CrmCommand


def moment(value) -> str:
    return value.isoformat(timespec="seconds") if value else "-"


class Command(CrmCommand):
    help = (
        "Point-in-time recovery: the recoverable window, the age of the newest archived WAL segment (the data "
        "at risk now) and any archiving failure. Exit 1 when archiving is off or failing, the newest segment "
        "is older than 5 minutes, or there is no base backup."
    )

    def handle(self, **options):
        status = wal.status()
        age = f"{int(status.age.total_seconds())} s" if status.age is not None else "-"
        self.stdout.write(f"Archiving: {'on' if status.archiving else 'off'}")
        self.stdout.write(f"Window: {moment(status.window_start)} to {moment(status.window_end)}")
        self.stdout.write(f"Newest archived segment: {age} old")
        why_not = basebackup.incremental_problem()
        self.stdout.write(f"Incremental base backups: {'off: ' + why_not if why_not else 'on'}")
        if status.last_failed_at:
            self.stdout.write(f"Last archiving failure: {moment(status.last_failed_at)}")
        if status.problem:
            raise CommandError(status.problem, returncode=1)
