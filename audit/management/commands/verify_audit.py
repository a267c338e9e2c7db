import sys

from audit.chain import ChainReport, chains_with_events, verify_chain
from audit.heads import chain_key, chain_of, describe, head_problems, recorded_heads
from crm.tenancy.cli import CrmCommand


class Command(CrmCommand):
    help = (
        "Walk the audit hash chains (every tenant's and the system's) and compare each with the chain heads "
        "recorded outside it (audit_chainhead, the backup manifests, audit-heads.json): OK with the number of "
        "events checked, or one BROKEN line per broken chain (exit code 1)."
    )

    def add_arguments(self, parser):
        chain = parser.add_mutually_exclusive_group()
        chain.add_argument("--tenant", help="only this tenant's chain (slug)")
        chain.add_argument("--system", action="store_true", help="only the system chain (backups, unknown users)")

    def handle(self, tenant=None, system=False, **options):
        recorded = recorded_heads()
        if tenant or system:
            keys = [chain_key(self.get_tenant(tenant).pk if tenant else None)]
        else:  # every chain with events, and every chain that had some: a removed chain has no events
            keys = sorted({chain_key(tenant_id) for tenant_id in chains_with_events()} | set(recorded.heads))
            keys.sort(key=lambda key: (key == "system", len(key), key))  # tenants by id, then the system
        problems = head_problems(keys, recorded)
        broken = [f"BROKEN: {line}" for line in recorded.unreadable]
        checked = matched = 0
        for key in keys:
            report = verify_chain(chain_of(key), ChainReport())
            checked += report.checked
            if not report.ok:
                broken.append(f"BROKEN at {report.broken_event}: {report.reason}")
                continue
            if key in problems:
                broken.append(f"BROKEN {describe(key)}: {problems[key]}")
            else:
                matched += len(recorded.of(key))
        for line in broken:
            self.stdout.write(line)
        if broken:
            sys.exit(1)
        heads = f", {matched} recorded chain heads matched" if matched else ""
        self.stdout.write(f"OK: {checked} events checked{heads}")
