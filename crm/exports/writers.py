"""Streaming writers: rows in, bytes out, memory flat whatever the number of rows.

CSV is UTF-8 with a byte-order mark (Excel reads a CSV without one in the
system's code page, which garbles Chinese). XLSX is written by openpyxl in
write-only mode, which keeps rows in a temporary file rather than in memory;
the finished file is then read out in chunks.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Iterable, Iterator

from openpyxl import Workbook

from crm.exports.cells import sheet_cell, text_cell

BOM = "\ufeff"
CHUNK_BYTES = 64 * 1024
FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class _Echo:
    """A file-like object whose write() hands back what it was given (for csv.writer)."""

    def write(self, value):
        return value


def csv_chunks(header: list[str], rows: Iterable[tuple], *, bom: bool = True) -> Iterator[bytes]:
    """The CSV as chunks of about CHUNK_BYTES (one write per row would be one socket write per row)."""
    writer = csv.writer(_Echo())
    buffer = [BOM + writer.writerow(header) if bom else writer.writerow(header)]
    size = 0
    for row in rows:
        line = writer.writerow([text_cell(value) for value in row])
        buffer.append(line)
        size += len(line)
        if size >= CHUNK_BYTES:
            yield "".join(buffer).encode()
            buffer, size = [], 0
    yield "".join(buffer).encode()


def xlsx_chunks(header: list[str], rows: Iterable[tuple], *, title: str = "Export") -> Iterator[bytes]:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    sheet.append(header)
    for row in rows:
        sheet.append([sheet_cell(value) for value in row])
    with tempfile.TemporaryFile() as file:
        workbook.save(file)
        file.seek(0)
        while chunk := file.read(CHUNK_BYTES):
            yield chunk


def chunks(fmt: str, header: list[str], rows: Iterable[tuple], *, title: str = "Export") -> Iterator[bytes]:
    if fmt == "xlsx":
        return xlsx_chunks(header, rows, title=title)
    return csv_chunks(header, rows)
