import sys

from audit.chain import ChainReport, chains_with_events, verify_chain
from crm.tenancy.cli import CrmCommand


class Command(CrmCommand):
    help = (
        "Walk the audit hash chains (every tenant's and the system's): OK with the number of events "
        "checked, or the first broken event."
    )

    def add_arguments(self, parser):
        chain = parser.add_mutually_exclusive_group()
        chain.add_argument("--tenant", help="only this tenant's chain (slug)")
        chain.add_argument("--system", action="store_true", help="only the system chain (backups, unknown users)")

    def handle(self, tenant=None, system=False, **options):
        chains = chains_with_events()  # every tenant's, then the system's
        if tenant or system:
            chains = [self.get_tenant(tenant).pk if tenant else None]
        report = ChainReport()
        for tenant_id in chains:
            verify_chain(tenant_id, report)
            if not report.ok:
                self.stdout.write(f"BROKEN at {report.broken_event}: {report.reason}")
                sys.exit(1)
        self.stdout.write(f"OK: {report.checked} events checked")
