"""`manage.py` finds the embedded servers `make run` started, and says in one line when there are none."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
WHERE_IS_THE_DATABASE = (
    "from django.db import connection; connection.ensure_connection(); print(connection.settings_dict['HOST'])"
)


@pytest.fixture
def bare_environment(tmp_path):
    """This machine's environment without any service named: as a new terminal has it."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "PG_BIN_DIR", "XDG_RUNTIME_DIR"}
    }
    env["CRM_VAR_DIR"] = str(tmp_path / "var")
    return env


def manage(env, *args):
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_without_servers_or_database_url_a_command_says_so_in_one_line(bare_environment):
    result = manage(bare_environment, "api_token", "acme", "admin")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "No database: the embedded servers are not running (start them with `make run` in another terminal) "
        "and DATABASE_URL is not set."
    ]


def test_commands_without_a_database_still_work_without_one(bare_environment):
    assert manage(bare_environment, "help").returncode == 0


def test_an_unreachable_database_url_is_one_line_too(bare_environment):
    result = manage(
        {**bare_environment, "DATABASE_URL": "postgres://postgres@127.0.0.1:1/crm"}, "api_token", "acme", "admin"
    )
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith("Cannot reach the database in DATABASE_URL: ")


def test_manage_py_uses_the_embedded_servers_running_for_crm_var_dir(bare_environment, tmp_path):
    state = tmp_path / "var" / "services.json"
    runner = subprocess.Popen(
        [sys.executable, "-m", "crm.devservices", "exec", "--", "sleep", "300"],
        cwd=ROOT,
        env=bare_environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 90
        while not state.exists() and runner.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert state.exists(), "the embedded servers did not start"
        assert oct(state.stat().st_mode & 0o777) == "0o600"

        found = manage(bare_environment, "shell", "-c", WHERE_IS_THE_DATABASE)
        assert found.returncode == 0, found.stderr
        assert found.stdout.strip().splitlines()[-1].startswith(str(tmp_path / "var")), "not this CRM_VAR_DIR's servers"
    finally:
        runner.send_signal(signal.SIGTERM)
        runner.wait(60)
    assert not state.exists()
    gone = manage(bare_environment, "api_token", "acme", "admin")
    assert gone.returncode == 2 and gone.stderr.startswith("No database:")
