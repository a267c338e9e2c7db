from crm.tenancy.actions import create_tenant
from crm.tenancy.cli import CrmCommand


class Command(CrmCommand):
    help = "Create a tenant with its first admin user."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--name", required=True)
        parser.add_argument("--admin", required=True, help="username of the tenant's first admin")
        parser.add_argument("--password", required=True, help="that admin's password (when the user is new)")

    def handle(self, slug, name, admin, password, **options):
        tenant = create_tenant(slug=slug, name=name, admin_username=admin, admin_password=password, acting_user=None)
        self.stdout.write(f"Tenant {tenant.slug} created with admin {admin}")
