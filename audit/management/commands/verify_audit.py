import sys

from audit.chain import ChainReport, tenant_ids_with_events, verify_chain
from crm.tenancy.cli import CrmCommand


class Command(CrmCommand):
    help = "Walk the audit hash chains: OK with the number of events checked, or the first broken event."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", help="only this tenant's chain (slug)")

    def handle(self, tenant=None, **options):
        tenant_ids = [self.get_tenant(tenant).pk] if tenant else tenant_ids_with_events()
        report = ChainReport()
        for tenant_id in tenant_ids:
            verify_chain(tenant_id, report)
            if not report.ok:
                self.stdout.write(f"BROKEN at event {report.broken_event_id}: {report.reason}")
                sys.exit(1)
        self.stdout.write(f"OK: {report.checked} events checked")
