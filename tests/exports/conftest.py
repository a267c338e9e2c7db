"""Reading exports back: CSV (with its byte-order mark) and XLSX (with openpyxl)."""

import csv
import io

import openpyxl
import pytest

from audit.models import AuditEvent
from tests.api.conftest import api  # noqa: F401  (the API tests' admin client)


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def csv_rows(response) -> list[dict]:
    """The CSV's rows as dicts; fails unless the file starts with the UTF-8 byte-order mark."""
    data = body(response)
    assert data.startswith(b"\xef\xbb\xbf"), "no BOM: Excel would open the Chinese garbled"
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def xlsx_rows(response) -> list[dict]:
    sheet = openpyxl.load_workbook(io.BytesIO(body(response)), read_only=True).active
    header, *rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip(header, row, strict=True)) for row in rows]


def export_events(tenant):
    return list(AuditEvent.objects.filter(tenant=tenant, action=AuditEvent.Action.EXPORT).order_by("seq"))


@pytest.fixture
def events(tenant):
    return lambda: export_events(tenant)
