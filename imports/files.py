"""Reading an uploaded table: CSV in any common encoding (detected), or XLSX.

A file that cannot be imported as a whole (empty, not a table, a header only, a formula
in a cell, a broken workbook) raises BadFile with a message for people, before anything
is written. Rows come out as lists of stripped strings, streamed: memory stays flat.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime

from charset_normalizer import from_bytes
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

MAX_BYTES = 50 * 1024 * 1024
MAX_ROWS = 200_000
SAMPLE = 256 * 1024  # bytes the encoding is detected from
XLSX_MAGIC = b"PK\x03\x04"
# A cell starting with "=" is a formula to a spreadsheet: we import values, never formulas.
FORMULA_START = "="


class BadFile(ValidationError):
    """The file cannot be imported; nothing was written. `message` says why."""

    def __init__(self, message):
        super().__init__(message, code="bad_file")


@dataclass
class Table:
    kind: str  # "csv" or "xlsx"
    encoding: str
    headers: list[str]
    content: bytes

    def rows(self) -> Iterator[list[str]]:
        """The data rows (after the header), each as long as the header, blank lines left out."""
        width = len(self.headers)
        source = _csv_rows(self.content, self.encoding) if self.kind == "csv" else _xlsx_rows(self.content)
        next(source, None)
        for row in source:
            if not any(row):
                continue
            yield (row + [""] * width)[:width]


def read_table(content: bytes, filename: str = "") -> Table:
    """Check the whole file and return its table (BadFile when it cannot be imported)."""
    if not content:
        raise BadFile(_("The file is empty."))
    if len(content) > MAX_BYTES:
        raise BadFile(_("The file is larger than 50 MB. Split it into smaller files."))
    if filename.lower().endswith(".xls") or content.startswith(b"\xd0\xcf\x11\xe0"):
        raise BadFile(_("Old Excel files (.xls) cannot be read: save the sheet as .xlsx or CSV."))
    if content.startswith(XLSX_MAGIC) or filename.lower().endswith((".xlsx", ".xlsm")):
        kind, encoding = "xlsx", ""
    else:
        kind, encoding = "csv", detect_encoding(content)
    table = Table(kind, encoding, [], content)
    source = _csv_rows(content, encoding) if kind == "csv" else _xlsx_rows(content)
    header = next(source, None)
    if header is None or not any(header):
        raise BadFile(_("The file is empty."))
    table.headers = _unique_headers(header)
    count = 0
    for line, row in enumerate(source, start=2):
        if not any(row):
            continue
        count += 1
        if count > MAX_ROWS:
            raise BadFile(_("The file has more than %(max)s rows. Split it into smaller files.") % {"max": MAX_ROWS})
        for column, cell in enumerate(row):
            if cell.startswith(FORMULA_START):
                raise BadFile(
                    _("Line %(line)s, column %(column)s holds a formula. Save the sheet with values only.")
                    % {"line": line, "column": column + 1}
                )
    if count == 0:
        raise BadFile(_("The file has a header line but no rows to import."))
    return table


def count_rows(table: Table) -> int:
    return sum(1 for _row in table.rows())


def detect_encoding(content: bytes) -> str:
    if b"\x00" in content[:SAMPLE]:
        raise BadFile(_("This is not a CSV or XLSX file."))
    try:
        content.decode("utf-8")
        return "utf-8-sig"
    except UnicodeDecodeError:
        pass
    matches = from_bytes(content[:SAMPLE])
    if not matches:
        raise BadFile(_("This is not a CSV or XLSX file: its text could not be read in any known encoding."))
    candidates = [match.encoding.replace("_", "-").lower() for match in matches]
    # A short file reads as several CJK code pages (GBK text is also valid cp949 or Big5): when
    # simplified Chinese is one of the readings, it is the one meant, in GB18030, the superset of
    # GB2312 and GBK (a sample in GB2312 may hide GBK-only characters further on).
    chinese = {"gb18030", "gbk", "gb2312", "cp936", "hz"}
    encoding = "gb18030" if chinese.intersection(candidates) else candidates[0]
    try:
        content.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        raise BadFile(_("The file's text is not in one encoding. Save it as UTF-8 and upload it again.")) from None
    return encoding


def _unique_headers(header: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    names = []
    for index, name in enumerate(header, start=1):
        name = name or _("Column %(number)s") % {"number": index}
        seen[name] = seen.get(name, 0) + 1
        names.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return names


def _csv_rows(content: bytes, encoding: str) -> Iterator[list[str]]:
    text = io.TextIOWrapper(io.BytesIO(content), encoding=encoding, newline="")
    first = text.readline()
    text.seek(0)
    delimiter = max(",;\t", key=first.count) if first else ","
    try:
        for row in csv.reader(text, delimiter=delimiter):
            yield [cell.replace("\x00", "").strip() for cell in row]
    except csv.Error as error:
        raise BadFile(_("The CSV file is malformed: %(problem)s") % {"problem": error}) from None


def _xlsx_rows(content: bytes) -> Iterator[list[str]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as error:
        raise BadFile(_("The Excel file is damaged or not an .xlsx workbook.")) from error
    except Exception as error:  # openpyxl raises assorted errors for broken XML inside the zip
        raise BadFile(_("The Excel file is damaged or not an .xlsx workbook.")) from error
    try:
        sheet = workbook.worksheets[0]
        for row in sheet.iter_rows(values_only=True):
            yield [_cell_text(value) for value in row]
    except BadFile:
        raise
    except Exception as error:
        raise BadFile(_("The Excel file is damaged or not an .xlsx workbook.")) from error
    finally:
        workbook.close()


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).replace("\x00", "").strip()
