from crm.tenancy.actions import api_token_for
from crm.tenancy.cli import CrmCommand


class Command(CrmCommand):
    help = (
        "Create a new REST API token of a user in a tenant and print its key as the last line. "
        "Keys are stored hashed: an existing token's key cannot be shown again."
    )

    def add_arguments(self, parser):
        parser.add_argument("tenant_slug")
        parser.add_argument("username")
        parser.add_argument("--name", default="manage.py api_token", help="what the token is for")

    def handle(self, tenant_slug, username, name, **options):
        token = api_token_for(self.get_tenant(tenant_slug), username, name=name, acting_user=None)
        self.stdout.write(token.key)
