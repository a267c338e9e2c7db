"""docker-compose.yml read as `docker compose config` reads it, without Docker: YAML (anchors and
merge keys), `.env` interpolation (${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error},
${VAR?error}, $$), then the compose specification's JSON schema (shipped by check-jsonschema)."""

from __future__ import annotations

import importlib.resources
import json
import re
from pathlib import Path

import jsonschema
import yaml

ROOT = Path(__file__).resolve().parents[2]
VARIABLE = re.compile(r"\$(?:(\$)|\{([A-Za-z_]\w*)(?:(:?[-?])([^}]*))?\}|([A-Za-z_]\w*))")


class MissingVariable(ValueError):
    pass


def interpolate(value, env: dict[str, str]):
    if isinstance(value, dict):
        return {key: interpolate(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, env) for item in value]
    if not isinstance(value, str):
        return value

    def replace(match):
        dollar, name, operator, argument, bare = match.groups()
        if dollar:
            return "$"
        name = name or bare
        missing = name not in env or ((operator or "").startswith(":") and env[name] == "")
        if operator and operator.endswith("?") and missing:
            raise MissingVariable(f"{name}: {argument}")
        if operator and operator.endswith("-") and missing:
            return argument
        return env.get(name, "")

    return VARIABLE.sub(replace, value)


def schema() -> dict:
    vendor = importlib.resources.files("check_jsonschema.builtin_schemas.vendor")
    return json.loads(vendor.joinpath("compose-spec.json").read_text())


def config(env: dict[str, str], path: Path = ROOT / "docker-compose.yml") -> dict:
    """The resolved configuration; raises MissingVariable or jsonschema.ValidationError."""
    document = interpolate(yaml.safe_load(path.read_text()), env)
    jsonschema.validators.validator_for(schema())(schema()).validate(document)
    return document
