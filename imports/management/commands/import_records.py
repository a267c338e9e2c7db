"""manage.py import_records TENANT_SLUG FILE --type customers [--mapping JSON] [--mode create|update|upsert]
[--dry-run] [--allow-duplicates], or manage.py import_records TENANT_SLUG --revert ID. The last line is the result:
"Import <id>: <created> created, <updated> updated, <skipped> skipped, <errors> errors"."""

import json
from pathlib import Path

from django.core.exceptions import PermissionDenied

from crm.tenancy.acting import ActionConflict
from crm.tenancy.cli import CrmCommand, fail
from crm.tenancy.context import amend
from imports import actions
from imports.models import Import, ImportRow


class Command(CrmCommand):
    help = "Import customers, contacts, opportunities or tickets from a CSV or XLSX file, or revert an import."

    def add_arguments(self, parser):
        parser.add_argument("tenant_slug")
        parser.add_argument("file", nargs="?")
        parser.add_argument("--type", default="customers", help="customers, contacts, opportunities or tickets")
        parser.add_argument("--mapping", help='JSON: {"column header": "field"}; default: suggested from the headers')
        parser.add_argument("--mode", default="create", choices=Import.Mode.values)
        parser.add_argument("--dry-run", action="store_true", help="preview only: write no records")
        parser.add_argument(
            "--allow-duplicates",
            action="store_true",
            help="create mode: create lines that look like existing records anyway (not by email), flagged",
        )
        parser.add_argument("--revert", type=int, metavar="ID", help="revert import ID instead")

    def handle(self, tenant_slug, file, **options):
        tenant = self.get_tenant(tenant_slug)
        with amend(tenant=tenant, reason="imported"):
            try:
                job = self._revert(options["revert"]) if options["revert"] else self._import(file, options)
            except (PermissionDenied, ActionConflict) as error:
                raise fail(str(error)) from None
        self.stdout.write(
            f"Import {job.pk}: {job.created} created, {job.updated} updated, {job.skipped} skipped, {job.errors} errors"
        )

    def _revert(self, job_id):
        job = Import.objects.filter(pk=job_id).first()
        if job is None:
            raise fail(f"No import {job_id} in this company.")
        job = actions.revert(job, acting_user=None)
        self.stdout.write(
            f"Reverted: {job.created} created records to the recycle bin, {job.updated} updated records put back."
        )
        return job

    def _import(self, file, options):
        if not file:
            raise fail("Give the file to import (or --revert ID).")
        path = Path(file)
        if not path.is_file():
            raise fail(f"No such file: {file}")
        mapping = None
        if options["mapping"]:
            try:
                mapping = json.loads(options["mapping"])
            except json.JSONDecodeError as error:
                raise fail(f"--mapping is not valid JSON: {error}") from None
        job = actions.upload(
            path.read_bytes(),
            path.name,
            options["type"],
            mode=options["mode"],
            mapping=mapping,
            allow_duplicates=options["allow_duplicates"],
            acting_user=None,
        )
        job = actions.preview(job, acting_user=None)
        for row in ImportRow.all_objects.filter(batch=job, outcome__in=("error", "skip")).order_by("line")[:50]:
            self.stdout.write(f"line {row.line}: {row.outcome}: {row.reason}")
        if not options["dry_run"]:
            job = actions.run(job, acting_user=None)
        return job
