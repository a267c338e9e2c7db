"""The API: GET/POST /api/v1/{resource}/{id}/attachments/, GET/DELETE /api/v1/attachments/{id}/."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from attachments.models import CHUNK_BYTES, Attachment
from tests.api.conftest import error_of
from tests.attachments.helpers import body, chunk_count, pdf, sha256, stored_bytes, text

pytestmark = pytest.mark.django_db

RESOURCES = {"customers": "customer", "contacts": "contact", "opportunities": "opportunity", "tickets": "ticket"}


@pytest.mark.parametrize(("resource", "record_type"), RESOURCES.items())
def test_upload_several_to_a_record_then_list_download_and_delete(api, records, resource, record_type):
    record = records.any(record_type)
    upload = pdf(size=40_000)
    content = upload.read()
    upload.seek(0)
    url = f"/api/v1/{resource}/{record.pk}/attachments/"
    response = api.post(url, {"file": [upload, text()]}, format="multipart")
    assert response.status_code == 201, response.content
    created = response.json()
    assert [(item["name"], item["size"]) for item in created] == [("contract.pdf", 40_000), ("notes.txt", 21)]
    assert created[0]["sha256"] == sha256(content) and created[0]["uploaded_by"] == api.user.pk

    listed = api.get(url).json()["results"]
    assert {item["id"] for item in listed} == {item["id"] for item in created}

    download = api.get(created[0]["download_url"])
    assert download.status_code == 200 and body(download) == content
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"] == 'attachment; filename="contract.pdf"'
    assert download["X-Content-Type-Options"] == "nosniff"
    assert body(api.get(created[0]["download_url"], HTTP_ACCEPT="application/pdf")) == content

    assert api.delete(f"/api/v1/attachments/{created[0]['id']}/").status_code == 204
    assert [item["id"] for item in api.get(url).json()["results"]] == [created[1]["id"]]
    error_of(api.get(created[0]["download_url"]), 404)  # in the bin


def test_a_chinese_file_name_downloads_with_rfc_6266_filename_star(api, records):
    customer = records.customer()
    response = api.post(
        f"/api/v1/customers/{customer.pk}/attachments/", {"file": text("合同 草案.txt")}, format="multipart"
    )
    download = api.get(response.json()[0]["download_url"])
    assert download["Content-Disposition"] == "attachment; filename*=utf-8''%E5%90%88%E5%90%8C%20%E8%8D%89%E6%A1%88.txt"
    assert download["Content-Type"] == "text/plain"


def test_an_html_file_is_refused_and_a_text_file_holding_html_is_never_served_inline(api, records):
    url = f"/api/v1/customers/{records.customer().pk}/attachments/"
    refused = error_of(api.post(url, {"file": SimpleUploadedFile("x.html", b"<html></html>")}, format="multipart"), 400)
    assert "cannot be attached" in refused["message"]
    created = api.post(url, {"file": text("x.txt", "<script>alert(1)</script>")}, format="multipart").json()
    download = api.get(created[0]["download_url"])
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["Content-Type"] == "text/plain" and download["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in download["Content-Security-Policy"]


def test_bad_uploads_are_400s_with_a_clear_message(api, records, settings):
    settings.ATTACHMENT_MAX_FILE_BYTES = 1000
    url = f"/api/v1/customers/{records.customer().pk}/attachments/"
    too_big = error_of(api.post(url, {"file": pdf("big.pdf", size=2000)}, format="multipart"), 400)
    assert "big.pdf is too big" in too_big["message"]
    assert "at least one file" in error_of(api.post(url, {}, format="multipart"), 400)["message"]
    assert error_of(api.post(url, {"file": "x"}, format="json"), 415)["code"]
    assert not Attachment.all_objects.exists()


def test_files_cannot_be_created_changed_or_reverted_at_the_collection(api, records):
    attachment = records.attachment()
    error_of(api.post("/api/v1/attachments/", {}, format="json"), 405)
    error_of(api.patch(f"/api/v1/attachments/{attachment.pk}/", {"name": "x"}, format="json"), 405)


def test_another_companys_record_and_file_are_404s(api, other_records):
    theirs = other_records.attachment()
    error_of(api.get(f"/api/v1/customers/{theirs.customer_id}/attachments/"), 404)
    error_of(
        api.post(f"/api/v1/customers/{theirs.customer_id}/attachments/", {"file": text()}, format="multipart"), 404
    )
    error_of(api.get(f"/api/v1/attachments/{theirs.pk}/"), 404)
    error_of(api.delete(f"/api/v1/attachments/{theirs.pk}/"), 404)
    assert Attachment.all_objects.filter(pk=theirs.pk, deleted_at__isnull=True).exists()


def test_roles_over_the_api(api_as, records):
    customer = records.customer()
    attachment = records.attachment(customer)
    viewer = api_as("viewer")
    assert viewer.get(f"/api/v1/customers/{customer.pk}/attachments/").status_code == 200
    assert body(viewer.get(f"/api/v1/attachments/{attachment.pk}/")) == b"Meeting notes.\n"
    error_of(viewer.post(f"/api/v1/customers/{customer.pk}/attachments/", {"file": text()}, format="multipart"), 403)
    error_of(viewer.delete(f"/api/v1/attachments/{attachment.pk}/"), 403)
    rep = api_as("rep")
    error_of(rep.get(f"/api/v1/attachments/{attachment.pk}/"), 404)  # not their customer


def test_the_collection_lists_metadata_of_every_visible_file(api, records):
    first, second = records.attachment(), records.attachment()
    listed = api.get("/api/v1/attachments/").json()["results"]
    assert {item["id"] for item in listed} == {first.pk, second.pk}
    assert {"name", "size", "content_type", "uploaded_by", "download_url"} <= set(listed[0])


def test_a_file_over_the_memory_limit_is_streamed_from_a_temporary_file_into_chunks(api, records, settings):
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1000  # Django writes the upload to a temporary file
    upload = pdf(size=2 * CHUNK_BYTES + 10)
    content = upload.read()
    upload.seek(0)
    created = api.post(f"/api/v1/customers/{records.customer().pk}/attachments/", {"file": upload}, format="multipart")
    pk = created.json()[0]["id"]
    assert chunk_count(pk) == 3 and stored_bytes(pk) == content
