"""Streaming writers: rows in, bytes out, memory flat whatever the number of rows.

CSV is UTF-8 with a byte-order mark (Excel reads a CSV without one in the
system's code page, which garbles Chinese). XLSX is written by openpyxl in
write-only mode, which keeps rows in a temporary file rather than in memory;
the finished file is then read out in chunks.
"""

from __future__ import annotations

import csv
import io
import itertools
import tempfile
from collections.abc import Iterable, Iterator

from openpyxl import Workbook

from crm.exports.cells import sheet_cell, text_cell

BOM = "\ufeff"
CHUNK_BYTES = 64 * 1024
CHUNK_ROWS = 500  # rows per CSV write, and per database fetch (crm.exports.lists)
FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def csv_chunks(header: list[str], rows: Iterable[tuple], *, convert: bool = True) -> Iterator[bytes]:
    """The CSV in chunks of CHUNK_ROWS rows (a write per row would be a socket write per row).

    `convert=False`: the rows are ready (text neutralised by the query, crm.exports.columns)
    and go to the C writer a chunk at a time; otherwise each cell goes through text_cell.
    """
    buffer = io.StringIO()
    buffer.write(BOM)
    writer = csv.writer(buffer)
    writer.writerow(header)
    rows = iter(rows)
    while chunk := list(itertools.islice(rows, CHUNK_ROWS)):
        writer.writerows(chunk if not convert else ([text_cell(value) for value in row] for row in chunk))
        yield buffer.getvalue().encode()
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode()


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


def chunks(fmt: str, header: list[str], rows: Iterable[tuple], *, title: str = "Export", convert: bool = True):
    if fmt == "xlsx":
        return xlsx_chunks(header, rows, title=title)
    return csv_chunks(header, rows, convert=convert)
