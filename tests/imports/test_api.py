"""POST /api/v1/imports/, GET /api/v1/imports/{id}/, rows, run, revert: roles and companies."""

import json
import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audit.models import AuditEvent
from crm.tenancy.context import activate
from customers.models import Customer
from tests.api.conftest import error_of
from tests.imports.helpers import csv_bytes, xlsx_bytes

pytestmark = pytest.mark.django_db

ROWS = [
    ["Customer name", "E-mail", "Phone", "Owner"],
    ["Acme", "acme@example.com", "+86 10 1234 5678", "alice"],
    ["Bolt", "bolt@example.com", "", "nobody-here"],
]


def upload(client, content, name="c.csv", **data):
    data = {"type": "customers", **data, "file": SimpleUploadedFile(name, content)}
    return client.post("/api/v1/imports/", data, format="multipart")


def test_an_upload_imports_the_good_rows_and_reports_the_bad_ones(api, tenant):
    response = upload(api, csv_bytes(ROWS))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "done"
    assert body["mapping"] == {"Customer name": "name", "E-mail": "email", "Phone": "phone", "Owner": "owner"}
    assert (body["total"], body["done"], body["created"], body["errors"]) == (2, 2, 1, 1)
    assert api.get(f"/api/v1/imports/{body['id']}/").json()["created"] == 1
    rows = api.get(f"/api/v1/imports/{body['id']}/rows/?outcome=error").json()["results"]
    assert rows == [{"line": 3, "outcome": "error", "reason": rows[0]["reason"], "record_id": None}]
    assert "Unknown owner “nobody-here”" in rows[0]["reason"]
    with activate(tenant):
        assert list(Customer.objects.values_list("name", flat=True)) == ["Acme"]
        event = AuditEvent.objects.get(action=AuditEvent.Action.IMPORT)
    assert event.detail == {"import": body["id"], "created": 1, "updated": 0, "skipped": 0, "errors": 1}


def test_a_dry_run_previews_and_run_writes_it(api, tenant):
    body = upload(api, xlsx_bytes(ROWS[:2]), name="c.xlsx", dry_run="true").json()
    assert (body["status"], body["created"]) == ("previewed", 1)
    with activate(tenant):
        assert not Customer.objects.exists()
    body = api.post(f"/api/v1/imports/{body['id']}/run/").json()
    assert (body["status"], body["created"]) == ("done", 1)
    error_of(api.post(f"/api/v1/imports/{body['id']}/run/"), 409)


def test_revert_over_the_api_puts_it_all_in_one_bin_batch(api, tenant):
    body = upload(api, csv_bytes(ROWS[:2])).json()
    reverted = api.post(f"/api/v1/imports/{body['id']}/revert/").json()
    assert reverted["status"] == "reverted"
    with activate(tenant):
        assert not Customer.objects.exists()
        assert Customer.deleted.get().deletion_batch.hex == reverted["revert_batch"].replace("-", "")
        assert AuditEvent.objects.filter(action=AuditEvent.Action.IMPORT_REVERTED).count() == 1


def test_a_mapping_can_be_given_and_a_bad_one_is_a_400(api, tenant):
    content = csv_bytes([["A", "B"], ["Acme", "x@example.com"]])
    body = upload(api, content, mapping=json.dumps({"A": "name", "B": "email"})).json()
    assert body["created"] == 1
    error = error_of(upload(api, content, mapping=json.dumps({"A": "salary"})), 400)
    assert "mapping" in error["fields"]
    error_of(upload(api, content, mapping="{nope"), 400)


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"", "c.csv", "empty"),
        (b"Name,Email\r\n", "c.csv", "no rows"),
        (b"PK\x03\x04broken", "c.xlsx", "damaged"),
        (bytes(range(256)) * 100, "c.csv", "not a CSV or XLSX"),
        (b"Name\r\n=HYPERLINK(1)\r\n", "c.csv", "formula"),
    ],
)
def test_bad_files_are_a_400_with_a_clear_message_and_write_nothing(api, tenant, content, name, message):
    error = error_of(upload(api, content, name=name), 400)
    assert message in " ".join(error["fields"]["file"])
    with activate(tenant):
        assert not Customer.objects.exists()


def test_roles_and_companies(api, api_as, other_api, tenant):
    body = upload(api, csv_bytes(ROWS[:2]), dry_run="1").json()
    error_of(other_api.get(f"/api/v1/imports/{body['id']}/"), 404)
    error_of(other_api.post(f"/api/v1/imports/{body['id']}/revert/"), 404)
    rep = api_as("rep")
    error_of(rep.get(f"/api/v1/imports/{body['id']}/"), 404)  # a colleague's import
    assert api_as("manager").get(f"/api/v1/imports/{body['id']}/").status_code == 200
    error_of(upload(api_as("viewer"), csv_bytes(ROWS[:2])), 403)
    mine = upload(rep, csv_bytes([["Name"], ["Rep's customer"]])).json()
    assert mine["created"] == 1
    with activate(tenant):
        assert Customer.objects.get(name="Rep's customer").owner == rep.user


def test_fifty_megabytes_of_garbage_get_a_clear_message_not_a_413(api, tenant):
    garbage = os.urandom(50 * 1024 * 1024)
    error = error_of(upload(api, garbage, name="big.csv"), 400)
    assert "not a CSV or XLSX file" in " ".join(error["fields"]["file"])


def test_a_file_above_the_general_body_limit_imports(api, tenant, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100_000
    settings.IMPORT_SYNC_ROWS = 20_000  # previewed in the request
    rows = [["Name", "Email"], *([f"Customer {n}", f"c{n}@example.com"] for n in range(10_000))]
    body = upload(api, csv_bytes(rows), dry_run="1").json()
    assert (body["status"], body["total"]) == ("previewed", 10_000)
    error_of(api.post("/api/v1/customers/", {"name": "x" * 200_000}, format="json"), 413)
