from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from crm.tenancy.context import activate
from crm.tenancy.models import Tenant

USAGE_ERROR = 2


def fail(message) -> CommandError:
    """One clear line on stderr and exit code 2, never a traceback."""
    return CommandError(message, returncode=USAGE_ERROR)


def messages_of(error: ValidationError) -> str:
    return " ".join(str(message) for message in error.messages)


class CrmCommand(BaseCommand):
    """A management command: traced as process "cli:<name>"; validation errors end as `fail()`."""

    def execute(self, *args, **options):
        name = type(self).__module__.rsplit(".", 1)[-1]
        try:
            with activate(None, process=f"cli:{name}"):
                return super().execute(*args, **options)
        except ValidationError as error:
            raise fail(messages_of(error)) from None

    def get_tenant(self, slug: str) -> Tenant:
        tenant = Tenant.objects.filter(slug=slug).first()
        if tenant is None:
            raise fail(f"Unknown tenant: {slug}")
        return tenant
