"""The import pages: upload, mapping, preview, confirm, failed rows, revert; delete by list."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from crm.tenancy.context import activate
from customers.models import Customer
from tests.imports.helpers import csv_bytes

pytestmark = pytest.mark.django_db


def test_upload_preview_confirm_and_revert_in_the_browser(member_client, tenant):
    client = member_client("manager")
    page = client.get("/customers/")
    assert b'href="/imports/new/?type=customer"' in page.content
    content = csv_bytes([["客户名称", "邮箱"], ["甲公司", "a@example.com"], ["乙公司", "not-an-email"]], "gb18030")
    response = client.post(
        "/imports/new/", {"file": SimpleUploadedFile("c.csv", content), "record_type": "customer", "mode": "create"}
    )
    assert response.status_code == 302
    detail = response["Location"]
    page = client.get(detail)
    assert b'<option value="name" selected' in page.content and b'<option value="email" selected' in page.content
    assert (
        client.post(detail, {"step": "preview", "map-0": "name", "map-1": "email", "mode": "create"}).status_code == 302
    )
    page = client.get(detail).content.decode()
    assert 'data-testid="import-row-create"' in page and 'data-testid="import-row-error"' in page
    with activate(tenant):
        assert not Customer.objects.exists()
    client.post(detail, {"step": "run"})
    with activate(tenant):
        assert list(Customer.objects.values_list("name", flat=True)) == ["甲公司"]
    failed = client.get(detail + "failed.csv").content.decode("utf-8")
    assert failed.startswith("\ufeff客户名称,邮箱,reason")
    assert "乙公司,not-an-email," in failed
    client.post(detail, {"step": "revert"})
    with activate(tenant):
        assert not Customer.objects.exists()
        assert Customer.deleted.count() == 1


def test_a_bad_file_is_a_form_error(member_client, tenant):
    client = member_client("admin")
    response = client.post(
        "/imports/new/",
        {"file": SimpleUploadedFile("c.xlsx", b"PK\x03\x04junk"), "record_type": "customer", "mode": "create"},
    )
    assert response.status_code == 200
    assert "damaged" in response.content.decode()


def test_another_companys_import_is_a_404(member_client, tenant, other_tenant):
    from tests.conftest import login
    from tests.factories import make_member

    client = member_client("admin")
    content = csv_bytes([["Name"], ["Acme"]])
    location = client.post(
        "/imports/new/", {"file": SimpleUploadedFile("c.csv", content), "record_type": "customer", "mode": "create"}
    )["Location"]
    stranger = login(make_member(other_tenant, "stranger", role="admin"))
    assert stranger.get(location).status_code == 404
    assert stranger.post(location, {"step": "run"}).status_code == 404


def test_delete_by_list_shows_what_matches_then_hands_over_to_the_bin(member_client, records, tenant):
    client = member_client("admin")
    one = records.customer(name="One", email="one@example.com", phone="+86 138 0000 0001")
    records.customer(name="Two", email="two@example.com")
    content = csv_bytes([["Email"], ["ONE@example.com"], ["ghost@example.com"]])
    page = client.post(
        "/imports/delete-by-list/",
        {"file": SimpleUploadedFile("l.csv", content), "record_type": "customer", "kind": "email", "column": "Email"},
    )
    text = page.content.decode()
    assert "1 record matches." in text and "ghost@example.com" in text
    assert f'name="ids" value="{one.pk}"' in text
    confirm = client.post("/recycle-bin/delete/customer/", {"ids": str(one.pk)})
    assert "Move to the recycle bin" in confirm.content.decode()
    client.post("/recycle-bin/delete/customer/", {"ids": str(one.pk), "confirm": "1"})
    with activate(tenant):
        assert list(Customer.objects.values_list("name", flat=True)) == ["Two"]
    by_phone = client.post(
        "/imports/delete-by-list/",
        {
            "file": SimpleUploadedFile("l.csv", csv_bytes([["Phone"], ["138 0000 0001"]])),
            "record_type": "customer",
            "kind": "phone",
        },
    )
    assert "0 records match." in by_phone.content.decode()  # already in the bin


def test_the_list_of_imports_takes_the_same_queries_for_one_or_many(member_client, tenant):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = member_client("admin")

    def upload():
        content = SimpleUploadedFile("c.csv", csv_bytes([["Name"], ["Acme"]]))
        client.post("/imports/new/", {"file": content, "record_type": "customer", "mode": "create"})

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/imports/").status_code == 200
        return len(captured)

    upload()
    one = queries()
    for _ in range(4):
        upload()
    assert queries() == one
