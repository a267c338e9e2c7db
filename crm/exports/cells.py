"""Turning database values into spreadsheet cells that cannot run as formulas.

A cell that starts with =, +, - or @ (or a tab or carriage return, which some
spreadsheets skip before reading a formula) is opened as a formula by Excel,
LibreOffice and WPS: a CSV injection. Such text gets a leading apostrophe, the
convention spreadsheets show as plain text (OWASP, "CSV Injection"). Numbers are
never text here, so a negative amount stays a number.
"""

from __future__ import annotations

import datetime
import decimal
import json
import uuid

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def text_cell(value) -> str | int | float | decimal.Decimal:
    """A CSV cell: numbers as they are, everything else as neutralised text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | decimal.Decimal | datetime.date):
        return value  # a date-time as str() writes it, like PostgreSQL: 2026-11-26 17:04:00+00:00
    if isinstance(value, list | tuple):
        value = ", ".join(str(item) for item in value)
    elif isinstance(value, dict):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    elif isinstance(value, uuid.UUID):
        return str(value)
    return neutralise(str(value))


def sheet_cell(value):
    """An XLSX cell: numbers and dates typed (dates without a zone: Excel has none, so UTC),
    text neutralised and without the control characters the format cannot hold."""
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(datetime.UTC).replace(tzinfo=None)
        return value
    if isinstance(value, datetime.date) or value is None:
        return value
    cell = text_cell(value)
    return ILLEGAL_CHARACTERS_RE.sub("", cell) if isinstance(cell, str) else cell
