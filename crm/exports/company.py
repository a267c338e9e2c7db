"""The company's way out: every record type, the recycle bin included, as one ZIP of CSV files
with a JSON manifest (what is in it, how many rows, when, from which versions).

The ZIP is streamed (zipstream-ng): each CSV is written from a server-side cursor while the
archive is being sent, so neither the rows nor the archive are ever held in memory, and the
same stream goes to an HTTP response or, from `manage.py export_company`, to a file.

Layout: `<type>.csv` for the records in use, `recycle-bin/<type>.csv` for those in the bin
(with when, by whom and in which batch they were deleted), `manifest.json` last, its row counts
those actually written.
"""

from __future__ import annotations

import json
import platform
import zipfile
from collections.abc import Iterator

import django
from django.conf import settings
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone
from zipstream import ZipStream

from crm.exports.columns import record_columns
from crm.exports.writers import CHUNK_ROWS, csv_chunks
from crm.records.registry import record_types

MANIFEST = "manifest.json"
FORMAT_VERSION = 1


def _counted(queryset, counts: dict, arcname: str):
    counts[arcname] = 0
    for row in queryset.iterator(chunk_size=CHUNK_ROWS):
        counts[arcname] += 1
        yield row


def schema_versions() -> dict[str, str]:
    """The last migration applied of each app: which schema the files' columns come from."""
    latest: dict[str, str] = {}
    for app, name in MigrationRecorder(connection).applied_migrations():
        latest[app] = max(latest.get(app, ""), name)
    return dict(sorted(latest.items()))


def company_files(tenant) -> list[tuple[str, str, bool, object, list[str]]]:
    """(arcname, type, in the bin, queryset of rows, headers) of every file, parents first."""
    files = []
    for name, entry in record_types().items():
        rows = entry.model.all_objects.filter(tenant=tenant).order_by("pk")
        for in_bin, arcname in ((False, f"{name}.csv"), (True, f"recycle-bin/{name}.csv")):
            columns = record_columns(entry.model, in_bin=in_bin, as_text=True)
            selected = rows.filter(deleted_at__isnull=not in_bin).values_list(*columns.lookups)
            files.append((arcname, name, in_bin, selected, columns.headers))
    return files


def company_zip(tenant, *, counts: dict, exported_by: str) -> Iterator[bytes]:
    """The archive's bytes, produced as they are read. `counts` (from the audited action) go in the manifest."""
    archive = ZipStream(compress_type=zipfile.ZIP_DEFLATED)
    written: dict[str, int] = {}
    files = company_files(tenant)
    for arcname, _name, _in_bin, rows, headers in files:
        archive.add(csv_chunks(headers, _counted(rows, written, arcname), convert=False), arcname)
    started = timezone.now()

    def manifest():  # run once every CSV has been written: the counts are final
        yield json.dumps(
            {
                "format": "crm-company-export",
                "format_version": FORMAT_VERSION,
                "company": {"id": tenant.pk, "slug": tenant.slug, "name": tenant.name},
                "started_at": started.isoformat(),
                "finished_at": timezone.now().isoformat(),
                "exported_by": exported_by,
                "versions": {
                    "api": settings.SPECTACULAR_SETTINGS["VERSION"],
                    "django": django.get_version(),
                    "python": platform.python_version(),
                    "schema": schema_versions(),
                },
                "counts": counts,
                "files": [
                    {"name": arcname, "type": name, "recycle_bin": in_bin, "rows": written.get(arcname, 0)}
                    for arcname, name, in_bin, _rows, _headers in files
                ],
            },
            ensure_ascii=False,
            indent=2,
        ).encode()

    archive.add(manifest(), MANIFEST)
    return iter(archive)
