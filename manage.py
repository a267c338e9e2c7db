#!/usr/bin/env python
import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
    from crm.devservices import adopt_running_services

    adopt_running_services()
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line
    from django.db.utils import OperationalError

    try:
        execute_from_command_line(sys.argv)
    except (ImproperlyConfigured, OperationalError) as error:
        if isinstance(error, ImproperlyConfigured) and "settings.DATABASES" not in str(error):
            raise
        print(no_database(error), file=sys.stderr)
        sys.exit(2)


def no_database(error) -> str:
    """The one line for a command that needs a database it cannot have."""
    if not os.environ.get("DATABASE_URL"):
        return (
            "No database: the embedded servers are not running (start them with `make run` in another "
            "terminal) and DATABASE_URL is not set."
        )
    reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return f"Cannot reach the database in DATABASE_URL: {reason}"


if __name__ == "__main__":
    main()
