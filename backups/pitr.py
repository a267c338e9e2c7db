"""Point-in-time recovery: the database as it was at a moment.

The newest good base backup from before the moment is copied into a scratch data directory
and started as a scratch server (its own port and socket, archiving off) that replays the
archived WAL up to the moment and stops there (recovery_target_time). From it, a logical
backup of the CRM's database is taken exactly as the nightly one is (backups/dump.py), kind
"recovered to a moment"; the existing restore levels (a new database, one company in place,
one customer) then restore it like any other backup, with all their rules. The scratch server
and its directory are removed at the end, whatever happened.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from contextlib import ExitStack, contextmanager
from datetime import datetime
from pathlib import Path

import psycopg2
from django.conf import settings
from django.db import DatabaseError, connection
from django.utils import timezone

from backups import basestore, dump, postgres, wal
from backups.models import Backup, BaseBackup
from backups.postgres import BackupError
from crm.tenancy.rls import system_database

PROMOTION_TIMEOUT = 3600  # seconds of WAL replay before giving up
NOT_REACHED = "recovery ended before configured recovery target was reached"
# The phases of a recovery, as a restore to a moment records them (backups/presentation.py words them).
RESTORING_BASE = "restoring the base backup"
REPLAYING = "replaying the WAL"
COPYING = "copying the database as it was"


def recover(moment: datetime, *, user=None, progress=None) -> Backup:
    """A verified logical backup of the database as it was at `moment` (aware), or BackupError.
    `progress(phase)` is called as each phase above begins."""
    say = progress or (lambda phase: None)
    if timezone.is_naive(moment):
        raise BackupError("Give the moment with its time zone, e.g. 2026-11-26T14:32:00+08:00.")
    _switch_segment()  # the WAL up to now goes to the archive, so a moment a second ago is reachable
    status = wal.status()
    if status.problem and not status.window_start:
        raise BackupError(status.problem)
    if moment > status.now:
        raise BackupError(f"{moment.isoformat()} is in the future.")
    base = (
        BaseBackup.objects.filter(status=BaseBackup.Status.GOOD, finished_at__lte=moment)
        .order_by("-finished_at")
        .first()
    )
    if base is None:
        start = status.window_start.isoformat() if status.window_start else "nowhere (no base backup)"
        raise BackupError(f"No base backup reaches back to {moment.isoformat()}: the window starts at {start}.")
    if status.last_archived_at is None or moment > status.last_archived_at:
        raise BackupError(
            f"The WAL archive reaches {status.last_archived_at}, not yet {moment.isoformat()}: "
            "try again in a minute or choose an earlier moment."
        )
    with scratch_server(base, moment, progress=say) as source:
        say(COPYING)
        backup = dump.take_backup(
            Backup.Kind.POINT_IN_TIME,
            user=user,
            source=source,
            extra_manifest={"recovered_to": moment.isoformat(), "base_backup": base.pk},
        )
    if backup.status != Backup.Status.GOOD:
        raise BackupError(f"Backup {backup.pk} of the recovered database failed: {backup.error}")
    return backup


def _switch_segment() -> None:
    """Close the current WAL segment so the archiver takes it (best effort: needs the right)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_switch_wal()")
            (location,) = cursor.fetchone()
            cursor.execute("SELECT pg_walfile_name(%s)", [location])
            (segment,) = cursor.fetchone()
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                cursor.execute("SELECT last_archived_wal >= %s FROM pg_stat_archiver", [segment])
                if cursor.fetchone()[0]:
                    return
                time.sleep(0.2)
    except DatabaseError:  # Django's wrapper of the driver's error: no right to switch, say
        return


@contextmanager
def scratch_server(base: BaseBackup, moment: datetime | None, progress=None):
    """A dump.Source on a server recovered from `base` to `moment` (None: to the archive's end)."""
    say = progress or (lambda phase: None)
    account = server_account()
    work = Path(tempfile.mkdtemp(prefix="pitr-", dir=scratch_home()))
    sockets = Path(tempfile.mkdtemp(prefix="crm-pitr-"))  # short: a socket path has at most 107 bytes
    data = work / "data"
    try:
        say(RESTORING_BASE)
        _lay_out(base, data, work)
        port = _free_port()
        _configure(data, sockets, port, moment)
        for path in (work, data, sockets):
            os.chmod(path, 0o700)
        _hand_over([work, sockets], account)
        say(REPLAYING)
        try:
            try:
                _recover(data, sockets, port, work / "server.log", account)
            except BackupError as error:
                if moment is None or NOT_REACHED not in str(error):
                    raise
                # Nothing committed after `moment` reached the archive, so its end is that moment.
                _configure(data, sockets, port, None)
                _recover(data, sockets, port, work / "server.log", account)
            yield dump.Source(host=str(sockets), port=port, database=settings.DATABASES["default"]["NAME"])
        finally:
            _pg_ctl(data, ["stop", "-m", "immediate"], account, check=False)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(sockets, ignore_errors=True)


def _lay_out(base: BaseBackup, data: Path, work: Path) -> None:
    """The base backup as a data directory: copied, decrypted, or combined from its chain."""
    chain = base.chain()
    if len(chain) > 1:  # a full base backup and its incrementals: pg_combinebackup makes them one
        with ExitStack() as stack:
            parts = [stack.enter_context(basestore.unpacked(part.path)) for part in chain]
            postgres.run([postgres.binary("pg_combinebackup"), "--output", str(data), *map(str, parts)])
    elif base.path.endswith(basestore.SEALED):  # encrypted at rest: decrypted straight into place
        data.mkdir()
        with basestore.unpacked(base.path, into=data):
            pass
    else:
        shutil.copytree(base.path, data, symlinks=True)


def scratch_home() -> Path:
    """VAR_DIR/pitr: the server's account (not always ours) passes through it to its own directory,
    and cannot list it (mode 711); BACKUP_DIR may be closed to that account."""
    home = Path(settings.VAR_DIR) / "pitr"
    home.mkdir(parents=True, exist_ok=True)
    os.chmod(home, 0o711)
    return home


def server_account() -> str | None:
    """The account the scratch server runs as: this one, or, for root (which PostgreSQL refuses),
    the owner of the WAL archive (the database server's account, which can read it)."""
    if os.geteuid() != 0:
        return None
    owner = pwd.getpwuid(wal.archive_dir().stat().st_uid).pw_name
    if owner == "root":
        raise BackupError("PostgreSQL does not run as root: run this as the account that owns the WAL archive.")
    return owner


def _configure(data: Path, sockets: Path, port: int, moment: datetime | None) -> None:
    lines = {
        "restore_command": wal.restore_command(),
        "recovery_target_action": "promote",
        "archive_mode": "off",
        "port": str(port),
        "listen_addresses": "",
        "unix_socket_directories": str(sockets),
        # A throw-away server: nothing it writes must survive a crash, so it never waits for the disk
        # (the end-of-recovery checkpoint included), and does not summarize WAL.
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
    }
    if int((data / "PG_VERSION").read_text().strip()) >= 17:  # an unknown setting would stop the server
        lines["summarize_wal"] = "off"
    # Empty: to the end of the archive (a later line wins over an earlier target).
    lines["recovery_target_time"] = moment.isoformat() if moment is not None else ""
    text = "".join(f"{name} = '{value.replace(chr(39), chr(39) * 2)}'\n" for name, value in lines.items())
    with (data / "postgresql.auto.conf").open("a") as handle:  # later lines win over the copied ones
        handle.write("\n# point-in-time recovery\n" + text)
    (data / "recovery.signal").touch()


def _hand_over(paths: list[Path], account: str | None) -> None:
    if account is None:
        return
    entry = pwd.getpwnam(account)
    for top in paths:
        for path in [top, *top.rglob("*")]:
            os.lchown(path, entry.pw_uid, entry.pw_gid)


def _start(data: Path, log: Path, account: str | None) -> None:
    # The server inherits this environment, and its restore_command with it (an encrypted archive's key).
    arguments = ["start", "-w", "-t", str(PROMOTION_TIMEOUT), "-l", str(log)]
    result = _pg_ctl(data, arguments, account, check=False, env={**os.environ, **wal.restore_environment()})
    if result.returncode != 0:
        raise BackupError(f"The scratch server did not start: {_tail(log)}")


def _recover(data: Path, sockets: Path, port: int, log: Path, account: str | None) -> None:
    """Start the scratch server and wait until it has replayed to its target and been promoted."""
    _start(data, log, account)
    _wait_for_promotion(data, sockets, port, log)


def _wait_for_promotion(data: Path, sockets: Path, port: int, log: Path) -> None:
    """pg_ctl returns once a recovering server accepts read-only connections; promotion comes later,
    or the server stops (its target not reached, a segment unreadable): the log says why."""
    deadline = time.monotonic() + PROMOTION_TIMEOUT
    user = system_database().get("USER") or None
    while time.monotonic() < deadline:
        if _promoted(sockets, port, user):
            return
        if not (data / "postmaster.pid").exists():
            raise BackupError(f"The scratch server stopped during recovery: {_tail(log)}")
        time.sleep(0.1)
    raise BackupError(f"The scratch server did not finish recovery: {_tail(log)}")


def _promoted(sockets: Path, port: int, user: str | None) -> bool:
    """Whether the scratch server has finished recovery (False while it starts, replays or stops)."""
    try:
        probe = psycopg2.connect(host=str(sockets), port=port, dbname="postgres", user=user)
    except psycopg2.OperationalError:
        return False
    try:
        with probe.cursor() as cursor:
            cursor.execute("SELECT pg_is_in_recovery()")
            return not cursor.fetchone()[0]
    except psycopg2.OperationalError:  # it shut down between the connection and the query
        return False
    finally:
        probe.close()


def _pg_ctl(data: Path, args: list[str], account: str | None, *, check: bool, env=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [postgres.binary("pg_ctl"), "-D", str(data), *args],
        user=account,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=check,
        timeout=PROMOTION_TIMEOUT + 60,
    )


def _tail(log: Path) -> str:
    try:
        lines = log.read_text(errors="replace").strip().splitlines()
    except OSError:
        return "no server log"
    return " ".join(line for line in lines[-12:] if "FATAL" in line or "ERROR" in line) or " ".join(lines[-2:])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
