"""The Attachments card on the record pages: upload (several files), list with size and uploader,
download, delete through the recycle bin's confirmation with Undo."""

import re

import pytest
from django.urls import reverse

from attachments.models import Attachment
from tests.attachments.helpers import body, pdf, text
from tests.conftest import login

pytestmark = pytest.mark.django_db

PAGES = {
    "customer": "customers:detail",
    "contact": "customers:contact_detail",
    "opportunity": "sales:detail",
    "ticket": "tickets:detail",
}


@pytest.fixture
def admin(admin_user):
    return login(admin_user)


@pytest.mark.parametrize("record_type", PAGES)
def test_every_record_page_uploads_several_files_and_lists_them(admin, records, record_type):
    record = records.any(record_type)
    page_url = reverse(PAGES[record_type], args=[record.pk])
    html = admin.get(page_url).content.decode()
    upload_url = reverse("attachments:upload", args=[record_type, record.pk])
    assert f'action="{upload_url}"' in html and 'name="files" multiple' in html
    assert "crm/attachments.js" in html and "<script>" not in html  # no inline script (CSP)

    response = admin.post(upload_url, {"files": [pdf(size=3000), text()], "next": page_url})
    assert response.status_code == 302 and response["Location"] == page_url + "#attachments"
    html = admin.get(page_url).content.decode()
    assert "Attached 2 files." in html
    assert html.count('data-testid="attachment-row"') == 2
    assert "2.9\xa0KB" in html and "alice" in html  # size and uploader


def test_a_refused_upload_says_why_on_the_page(admin, records, settings):
    settings.ATTACHMENT_MAX_FILE_BYTES = 1000
    customer = records.customer()
    response = admin.post(
        reverse("attachments:upload", args=["customer", customer.pk]),
        {"files": [pdf("huge.pdf", size=5000)]},
        follow=True,
    )
    assert "huge.pdf is too big (4.9\xa0KB): a file may have at most 1000\xa0bytes." in response.content.decode()
    assert not Attachment.all_objects.exists()


def test_download_is_an_attachment_with_the_right_type(admin, records):
    attachment = records.attachment(name="会议纪要.txt")
    response = admin.get(reverse("attachments:download", args=[attachment.pk]))
    assert response.status_code == 200 and body(response) == b"Meeting notes.\n"
    assert response["Content-Type"] == "text/plain"
    assert response["Content-Disposition"] == "attachment; filename*=utf-8''%E4%BC%9A%E8%AE%AE%E7%BA%AA%E8%A6%81.txt"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_delete_goes_through_the_bins_confirmation_and_offers_undo(admin, records):
    customer = records.customer()
    attachment = records.attachment(customer)
    page_url = reverse("customers:detail", args=[customer.pk])
    html = admin.get(page_url).content.decode()
    link = re.search(
        r'href="([^"]*)" data-testid="attachment-delete"|data-testid="attachment-delete"\s+href="([^"]*)"', html
    )
    delete_url = (link.group(1) or link.group(2)).replace("&amp;", "&")
    assert delete_url.startswith(reverse("bin:delete", args=["attachment"]))
    assert "notes.txt" in admin.get(delete_url).content.decode()  # the confirmation names the file
    response = admin.post(delete_url, {"ids": attachment.pk, "confirm": "1"}, follow=True)
    html = response.content.decode()
    assert response.redirect_chain[-1][0] == page_url + "#attachments"
    assert 'data-testid="attachments-empty"' in html
    undo = re.search(r'action="(/recycle-bin/undo/[^"]+)"', html).group(1)
    admin.post(undo)
    assert Attachment.all_objects.get(pk=attachment.pk).deleted_at is None


def test_viewers_see_and_download_files_but_get_no_upload_or_delete(records, member_client):
    customer = records.customer()
    attachment = records.attachment(customer)
    viewer = member_client("viewer")
    html = viewer.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert 'data-testid="attachment-row"' in html
    assert 'data-testid="attachment-form"' not in html and 'data-testid="attachment-delete"' not in html
    assert (
        viewer.post(reverse("attachments:upload", args=["customer", customer.pk]), {"files": [text()]}).status_code
        == 403
    )
    assert viewer.get(reverse("attachments:download", args=[attachment.pk])).status_code == 200


def test_another_companys_files_and_records_are_404s(admin, other_records):
    theirs = other_records.attachment()
    assert admin.get(reverse("attachments:download", args=[theirs.pk])).status_code == 404
    upload = reverse("attachments:upload", args=["customer", theirs.customer_id])
    assert admin.post(upload, {"files": [text()]}).status_code == 404
    assert admin.post(reverse("attachments:upload", args=["interaction", 1]), {"files": [text()]}).status_code == 404
    assert admin.get(upload).status_code == 405


def test_the_record_page_reads_its_files_in_a_constant_number_of_queries(admin, records, django_assert_max_num_queries):
    customer = records.customer()
    url = reverse("customers:detail", args=[customer.pk])
    records.attachment(customer)
    admin.get(url)
    with django_assert_max_num_queries(60) as few:
        admin.get(url)
    for _ in range(5):
        records.attachment(customer)
    with django_assert_max_num_queries(len(few.captured_queries)):
        admin.get(url)
