"""The production shape: docker-compose.yml and Django's deployment checks."""

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]


def command_of(service) -> list[str]:
    command = service.get("command", [])
    return shlex.split(command) if isinstance(command, str) else list(command)


def test_compose_runs_every_service_the_production_shape_needs():
    assert {"db", "redis", "web", "worker", "beat"} <= set(SERVICES)
    assert SERVICES["db"]["image"].startswith("postgres:16")
    assert SERVICES["redis"]["image"].startswith("redis:")


def test_every_service_has_a_health_check():
    for name in ("db", "redis", "web", "worker"):
        assert "healthcheck" in SERVICES[name], name


def test_exactly_one_beat_and_a_backups_volume():
    assert SERVICES["beat"].get("deploy", {}).get("replicas", 1) == 1
    assert "backups" in COMPOSE["volumes"]
    mounts = " ".join(str(volume) for name in ("web", "worker") for volume in SERVICES[name].get("volumes", []))
    assert "backups:" in mounts


def test_app_services_run_commands_that_exist_in_the_project():
    assert command_of(SERVICES["web"])[:2] == ["gunicorn", "crm.wsgi:application"]
    assert command_of(SERVICES["worker"])[:4] == ["celery", "-A", "crm", "worker"]
    assert command_of(SERVICES["beat"])[:4] == ["celery", "-A", "crm", "beat"]
    requirements = (ROOT / "requirements.txt").read_text().lower()
    for tool in ("gunicorn", "celery"):
        assert re.search(rf"^{tool}==", requirements, re.M), tool
    assert (ROOT / "crm" / "wsgi.py").exists() and (ROOT / "crm" / "celery.py").exists()
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "requirements.txt" in dockerfile and "collectstatic" in dockerfile


def test_runtime_and_development_pins_are_kept_apart():
    runtime = (ROOT / "requirements.txt").read_text().lower().splitlines()
    development = (ROOT / "requirements-dev.txt").read_text().lower().splitlines()
    pins = [line for line in runtime + development if line and not line.startswith(("#", "-r "))]
    assert all(re.fullmatch(r"[a-z0-9._-]+==[0-9][0-9a-z.+-]*", line) for line in pins), pins
    runtime_names = {line.split("==")[0] for line in runtime if "==" in line}
    for tool in ("pytest", "pytest-django", "ruff", "playwright", "schemathesis", "hypothesis"):
        assert tool not in runtime_names, tool
        assert any(line.startswith(f"{tool}==") for line in development), tool
    assert "-r requirements.txt" in development


def test_app_services_get_their_settings_from_the_environment():
    for name in ("web", "worker", "beat"):
        environment = SERVICES[name]["environment"]
        keys = set(environment) if isinstance(environment, dict) else {item.split("=")[0] for item in environment}
        assert {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "BACKUP_DIR"} <= keys, name


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
