"""Exporting what a list shows: the browser's list pages (`?export=csv|xlsx`), the API's list
endpoints (`?format=csv|xlsx`) and the recycle bin, all through the same few functions.

A CSV is written by PostgreSQL's COPY into a spooled temporary file, then streamed; an XLSX
and the recycle bin read their rows with a server-side cursor in chunks (QuerySet.iterator).
Either way the response streams (StreamingHttpResponse) and memory stays flat from ten rows
to a million.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterator

from django.contrib.auth import get_user_model
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError

from crm.exports import actions
from crm.exports.columns import record_columns
from crm.exports.writers import BOM, CHUNK_BYTES, CHUNK_ROWS, FORMATS, chunks
from crm.tenancy.context import current_tenant

BIN_HEADERS = ["type", "id", "label", "deleted_at", "deleted_by", "deletion_batch"]
NOT_FILTERS = ("format", "page", "page_size")
SPOOL_BYTES = 256 * 1024  # beyond this the spooled CSV goes to a temporary file


def api_export_request(request) -> tuple[str, list[str]] | None:
    """An API list asked for as a file (`?format=csv|xlsx`): (format, names of the filters used);
    None for a normal page. Another format is a 400 naming the choices."""
    fmt = request.query_params.get("format")
    if fmt is None:
        return None
    if fmt not in FORMATS:
        raise ValidationError({"format": [_("Choose one of: %(formats)s.") % {"formats": ", ".join(sorted(FORMATS))}]})
    return fmt, sorted(name for name in request.query_params if name not in NOT_FILTERS)


def streaming_response(fmt: str, stem: str, content) -> StreamingHttpResponse:
    response = StreamingHttpResponse(content, content_type=FORMATS[fmt])
    filename = f"{stem}-{current_tenant().slug}-{timezone.localdate():%Y%m%d}.{fmt}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


def list_response(queryset, *, fmt: str, filters, acting_user) -> StreamingHttpResponse:
    """The rows of `queryset` (restricted, filtered and ordered as the list), recorded, streamed."""
    model = queryset.model
    actions.record_list_export(queryset, fmt=fmt, filters=filters, acting_user=acting_user)
    columns = record_columns(model, as_text=fmt == "csv")
    rows = queryset.values_list(*columns.lookups)
    stem = str(model._meta.verbose_name_plural).replace(" ", "-")
    if fmt == "csv":
        return streaming_response(fmt, stem, copied_csv(columns.headers, rows))
    content = chunks(fmt, columns.headers, rows.iterator(chunk_size=CHUNK_ROWS), title=model._meta.model_name)
    return streaming_response(fmt, stem, content)


def copied_csv(headers: list[str], rows) -> Iterator[bytes]:
    """The CSV written by PostgreSQL itself: `COPY (<the rows' own SELECT>) TO STDOUT WITH CSV`.

    COPY is the fastest way rows leave PostgreSQL, about twice as fast as fetching them into
    Python and writing them again. The SELECT is the list's own queryset compiled by Django
    (restriction, filters, order, text already neutralised by crm.exports.columns), so the file
    holds exactly the rows the list shows. The driver's copy_expert() writes to a file object:
    a spooled temporary file, in memory up to SPOOL_BYTES and on disk beyond, read back in chunks.
    """
    header = io.StringIO()
    csv.writer(header, lineterminator="\n").writerow(headers)
    yield (BOM + header.getvalue()).encode()
    try:
        sql, params = rows.query.sql_with_params()
    except EmptyResultSet:  # a filter no row can match (e.g. QuerySet.none()): the header alone
        return
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
        with connection.cursor() as cursor:
            statement = cursor.mogrify(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)", params)
            cursor.copy_expert(statement, spool)
        spool.seek(0)
        while chunk := spool.read(CHUNK_BYTES):
            yield chunk


def bin_response(entries, *, fmt: str, filters, acting_user) -> StreamingHttpResponse:
    """The recycle bin's rows as its page lists them (crm.recyclebin.listing.BinEntries), newest first."""
    actions.record_bin_export(entries.parts, fmt=fmt, filters=filters, acting_user=acting_user)
    return streaming_response(fmt, "recycle-bin", chunks(fmt, BIN_HEADERS, bin_rows(entries), title="recycle-bin"))


def bin_rows(entries):
    """The bin's entries as rows, who deleted each by username (looked up once per chunk of rows)."""
    names: dict = {None: ""}
    batch: list[dict] = []

    def flush():
        missing = {entry["deleted_by_id"] for entry in batch} - names.keys()
        if missing:
            names.update(get_user_model().objects.filter(pk__in=missing).values_list("pk", "username"))
        for entry in batch:
            yield (
                entry["type"],
                entry["id"],
                entry["label"],
                entry["deleted_at"],
                names.get(entry["deleted_by_id"], ""),
                entry["deletion_batch"],
            )
        batch.clear()

    for entry in entries.rows(chunk_size=CHUNK_ROWS):
        batch.append(entry)
        if len(batch) >= CHUNK_ROWS:
            yield from flush()
    yield from flush()
