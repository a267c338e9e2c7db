import getpass
import os

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied

from backups import actions
from backups.models import Backup
from backups.postgres import BackupError
from crm.tenancy.acting import ActionConflict
from crm.tenancy.cli import CrmCommand, fail
from crm.tenancy.context import activate


def os_account() -> str:
    """The operating-system account running this command (its uid where it has no name, as in some containers)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid())


class Command(CrmCommand):
    help = (
        "Take one verified backup now; prints `Backup <id> <path>` as the last line. The backup records the "
        "operating-system account that ran it, and --user USERNAME (a staff member) as the person who asked."
    )

    def add_arguments(self, parser):
        parser.add_argument("--user", dest="username", help="The staff member asking for the backup (audited).")
        parser.add_argument(
            "--physical",
            action="store_true",
            help="A base backup of the whole cluster (point-in-time recovery); prints `Base backup <id> <path>`.",
        )
        parser.add_argument(
            "--incremental",
            action="store_true",
            help="With --physical: only what changed since the newest base backup (PostgreSQL 17+, summarize_wal).",
        )

    def handle(self, username=None, physical=False, incremental=False, **options):
        user = None
        if username is not None:
            user = get_user_model().objects.filter(username=username, is_active=True).first()
            if user is None:
                raise fail(f"Unknown user: {username}")
        if incremental and not physical:
            raise fail("--incremental needs --physical.")
        if physical:
            return self.base_backup(user, incremental)
        try:
            with activate(None, user=user, process="cli:backup_now"):
                backup = actions.back_up(kind=Backup.Kind.MANUAL, os_user=os_account(), acting_user=user)
        except (ActionConflict, BackupError, PermissionDenied) as error:
            raise fail(str(error)) from None
        if backup.status != Backup.Status.GOOD:
            raise fail(f"Backup {backup.pk} failed: {backup.error}")
        self.stdout.write(f"Backup {backup.pk} {backup.path}")

    def base_backup(self, user, incremental: bool) -> None:
        try:
            with activate(None, user=user, process="cli:backup_now"):
                base = actions.take_base_backup(os_user=os_account(), incremental=incremental, acting_user=user)
        except (BackupError, PermissionDenied) as error:
            raise fail(str(error)) from None
        if base.status != base.Status.GOOD:
            raise fail(f"Base backup {base.pk} failed: {base.error}")
        self.stdout.write(f"Base backup {base.pk} {base.path}")
