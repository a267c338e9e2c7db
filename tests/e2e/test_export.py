"""Export in the browser: a rep filters the customers list, clicks Export and gets a CSV of what
the list shows (their own customers only), with the byte-order mark Excel needs for Chinese."""

import csv
import io
from pathlib import Path

import pytest

from audit.models import AuditEvent
from tests.e2e.conftest import log_in
from tests.factories import RecordMaker, make_member

pytestmark = pytest.mark.browser


def test_clicking_export_on_the_filtered_customers_list_downloads_what_it_shows(page, tenant, admin):
    rep = make_member(tenant, "rita", role="rep")
    records = RecordMaker(tenant, admin)
    records.customer(name="北京科技有限公司", status="active", owner=rep)
    records.customer(name="Rita's lead", status="lead", owner=rep)
    records.customer(name="Someone else's", status="active")

    log_in(page, "rita")
    page.goto("/customers/?status=active")
    with page.expect_download() as download_info:
        page.get_by_test_id("export-csv").click()
    download = download_info.value
    assert download.suggested_filename.startswith("customers-") and download.suggested_filename.endswith(".csv")
    data = Path(download.path()).read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert [(row["name"], row["status"], row["owner"]) for row in rows] == [("北京科技有限公司", "active", "rita")]

    event = AuditEvent.objects.get(tenant=tenant, action=AuditEvent.Action.EXPORT)
    assert (event.actor, event.object_type, event.count, event.detail["filters"]) == (rep, "customer", 1, ["status"])
