"""manage.py export_company TENANT_SLUG FILE: the company's ZIP (as the browser's download) written
on the server, for companies too big to download in one request; recorded in the audit log."""

from __future__ import annotations

import os
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from crm.exports import actions
from crm.exports.company import company_zip
from crm.tenancy.context import activate
from crm.tenancy.models import Tenant

PROCESS = "export_company"


class Command(BaseCommand):
    help = "Write every record of one company (the recycle bin included) to a ZIP of CSV files with a manifest."

    def add_arguments(self, parser):
        parser.add_argument("tenant", help="The company's slug.")
        parser.add_argument("file", help="Where to write the ZIP (it must not exist yet).")

    def handle(self, *args, tenant, file, **options):
        company = Tenant.objects.filter(slug=tenant).first()
        if company is None:
            raise CommandError(f"No company with the slug {tenant!r}.", returncode=2)
        target = Path(file)
        if target.exists():
            raise CommandError(f"{target} exists already: choose a new file name.", returncode=2)
        if not target.parent.is_dir():
            raise CommandError(f"{target.parent} is not a directory.", returncode=2)
        partial = target.with_name(f".{target.name}.partial")
        with activate(company, process=PROCESS, reason="company export"):
            counts = actions.record_company_export(acting_user=None)
            try:
                # Private from the first byte (it holds every customer), renamed into place when complete.
                descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(descriptor, "wb") as out:
                    for chunk in company_zip(company, counts=counts, exported_by=PROCESS):
                        out.write(chunk)
                    out.flush()
                    os.fsync(out.fileno())
                partial.rename(target)
            except BaseException:
                partial.unlink(missing_ok=True)
                raise
        total = sum(n for row in counts.values() for n in row.values())
        self.stdout.write(f"Exported {total} records of {company.slug} to {target}")
