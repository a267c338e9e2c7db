"""The demo tenant "acme": one user per role and a realistic book of business.

Idempotent: users and memberships are brought to the state below; the
records are created once, when the company has none yet, by the demo steps
the apps registered (crm.records.registry.DemoStep).
"""

from django.db import transaction

from crm.records.registry import demo_steps, record_types
from crm.tenancy.actions import add_member, make_staff
from crm.tenancy.cli import CrmCommand
from crm.tenancy.context import activate
from crm.tenancy.models import Tenant
from crm.tenancy.roles import Role

DEMO_PASSWORD = "crm-demo-2026"
DEMO_USERS = [
    ("admin", Role.ADMIN),
    ("manager", Role.MANAGER),
    ("rep", Role.REP),
    ("rep2", Role.REP),
    ("support", Role.SUPPORT),
    ("viewer", Role.VIEWER),
    ("ops", Role.ADMIN),
]
# Installation staff too, so "Back up now" and whole-database restores can be tried.
DEMO_STAFF = ("ops",)


class Command(CrmCommand):
    help = "Create or refresh the demo tenant 'acme' (idempotent)."

    def handle(self, **options):
        with transaction.atomic():
            tenant, _created = Tenant.objects.get_or_create(slug="acme", defaults={"name": "Acme Corporation"})
            users = {
                username: add_member(tenant, username, role=role, password=DEMO_PASSWORD, acting_user=None).user
                for username, role in DEMO_USERS
            }
            for username in DEMO_STAFF:
                make_staff(users[username], acting_user=None)
            with activate(tenant, user=users["admin"], process="cli:seed_demo", reason="seeded"):
                first_run = not any(
                    entry.model.all_objects.filter(tenant=tenant).exists() for entry in record_types().values()
                )
                if first_run:
                    for step in demo_steps():
                        step.run(tenant, users)
                counts = {entry.verbose_name_plural: entry.model.objects.count() for entry in record_types().values()}
        summary = ", ".join(f"{count} {name}" for name, count in counts.items())
        users = ", ".join(name for name, _role in DEMO_USERS)
        self.stdout.write(f"Demo tenant acme ready: {summary}; users {users} (password {DEMO_PASSWORD})")
