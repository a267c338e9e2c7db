from crm.tenancy.actions import add_member
from crm.tenancy.cli import CrmCommand
from crm.tenancy.roles import Role


class Command(CrmCommand):
    help = "Create a user in a tenant, or add an existing user to it, with a role."

    def add_arguments(self, parser):
        parser.add_argument("tenant_slug")
        parser.add_argument("username")
        parser.add_argument("--role", required=True, help=", ".join(Role.values))
        parser.add_argument("--password", help="required for a new user")
        parser.add_argument("--email", default="")

    def handle(self, tenant_slug, username, role, password, email, **options):
        tenant = self.get_tenant(tenant_slug)
        membership = add_member(tenant, username, role=role, password=password, email=email, acting_user=None)
        self.stdout.write(f"{membership.user.username} is {membership.role} in {tenant.slug}")
