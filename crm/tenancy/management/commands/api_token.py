from crm.tenancy.actions import api_token_for
from crm.tenancy.cli import CrmCommand


class Command(CrmCommand):
    help = "Print the REST API token of a user in a tenant (created if missing) as the last line."

    def add_arguments(self, parser):
        parser.add_argument("tenant_slug")
        parser.add_argument("username")

    def handle(self, tenant_slug, username, **options):
        token = api_token_for(self.get_tenant(tenant_slug), username, acting_user=None)
        self.stdout.write(token.key)
