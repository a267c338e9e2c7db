"""Refusals of a production configuration that is not one (settings.py, SECURE=1) and the same as
`check --deploy` errors."""

from django.conf import settings
from django.core import checks

DEVELOPMENT_SECRET_KEY = "dev-only-insecure-key-set-SECRET_KEY-in-production-0123456789"
WELL_KNOWN_DATABASE_PASSWORDS = {"crm", "postgres", "password", "changeme"}


def production_problems(secret_key: str, database_password: str) -> list[str]:
    problems = []
    if secret_key == DEVELOPMENT_SECRET_KEY:
        problems.append("SECRET_KEY is not set: production (SECURE=1) needs its own secret key.")
    if database_password in WELL_KNOWN_DATABASE_PASSWORDS:
        problems.append("DATABASE_URL uses a well-known password: set POSTGRES_PASSWORD / DATABASE_URL.")
    return problems


@checks.register(checks.Tags.security, deploy=True)
def production_secrets(app_configs, **kwargs):
    password = settings.DATABASES["default"].get("PASSWORD", "")
    return [checks.Error(problem, id="crm.E001") for problem in production_problems(settings.SECRET_KEY, password)]
