"""Attaching files: stored in PostgreSQL chunk by chunk, checked (name, type by content, size, the
company's total), with history and one audit event; who may attach to what."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from attachments.actions import attach_files, clean_name, company_bytes
from attachments.models import CHUNK_BYTES, Attachment
from crm.tenancy.context import activate
from tests.attachments.helpers import PDF, PNG, chunk_count, pdf, sha256, stored_bytes, text
from tests.factories import make_member
from tests.trail import Trail

pytestmark = pytest.mark.django_db


def attach(tenant, user, record, files):
    with activate(tenant, user=user, process="tests"):
        return attach_files(record, files, acting_user=user)


def test_a_file_is_stored_in_chunks_of_256_kib_byte_for_byte(tenant, admin_user, records):
    customer = records.customer()
    upload = pdf(size=2 * CHUNK_BYTES + 123)
    content = upload.read()
    upload.seek(0)
    (attachment,) = attach(tenant, admin_user, customer, [upload])
    assert chunk_count(attachment.pk) == 3
    assert stored_bytes(attachment.pk) == content
    assert (attachment.size, attachment.sha256) == (len(content), sha256(content))
    assert (attachment.content_type, attachment.uploaded_by, attachment.customer) == (
        "application/pdf",
        admin_user,
        customer,
    )


def test_several_files_are_one_audit_event_and_a_history_row_each(tenant, admin_user, records):
    ticket = records.ticket()
    with Trail(tenant) as trail:
        created = attach(tenant, admin_user, ticket, [pdf(), text(), SimpleUploadedFile("logo.png", PNG)])
    ids = [attachment.pk for attachment in created]
    assert [event[:2] for event in trail.events] == [("create", "attachment")]
    detail = trail.event_objects[0].detail
    assert detail["ids"] == ids and detail["on"] == {"type": "ticket", "id": ticket.pk}
    assert "contract.pdf" not in str(detail)  # names are personal values: never in the audit log
    assert sorted(v for v in trail.versions if v[0] == "attachment") == sorted(
        ("attachment", pk, "+", "created") for pk in ids
    )
    assert all(
        attachment.ticket_id == ticket.pk and attachment.customer_id == ticket.customer_id for attachment in created
    )


def test_a_file_over_the_size_limit_is_refused_with_its_name_and_the_limit(tenant, admin_user, records, settings):
    settings.ATTACHMENT_MAX_FILE_BYTES = 1000
    with pytest.raises(ValidationError) as refused:
        attach(tenant, admin_user, records.customer(), [text(), pdf("big.pdf", size=5000)])
    assert refused.value.messages == ["big.pdf is too big (4.9\xa0KB): a file may have at most 1000\xa0bytes."]
    assert not Attachment.all_objects.exists()  # all of the upload or nothing


def test_the_companys_total_counts_the_recycle_bin_and_refuses_what_would_pass_it(
    tenant, admin_user, records, settings
):
    customer = records.customer()
    attach(tenant, admin_user, customer, [pdf(size=3000)])
    with activate(tenant, user=admin_user):
        Attachment.objects.get().delete()  # in the bin: its bytes are still kept
        assert company_bytes(tenant.pk) == 3000
    settings.ATTACHMENT_MAX_COMPANY_BYTES = 5000
    with pytest.raises(ValidationError, match="over its limit"):
        attach(tenant, admin_user, customer, [pdf(size=2500)])
    attach(tenant, admin_user, customer, [pdf(size=2000)])


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("setup.exe", b"MZ\x90\x00", "cannot be attached"),
        ("page.html", b"<html><script>alert(1)</script>", "cannot be attached"),
        ("invoice.pdf", b"<html>not a pdf</html>", "does not match"),
        ("photo.png", PDF, "does not match"),
        ("notes.txt", PNG, "not text"),
        ("data.csv", b"a,b\x00c", "not text"),
        ("no-extension", b"hello", "cannot be attached"),
    ],
)
def test_types_off_the_list_or_whose_content_disagrees_are_refused(tenant, admin_user, records, name, content, reason):
    with pytest.raises(ValidationError, match=reason):
        attach(tenant, admin_user, records.customer(), [SimpleUploadedFile(name, content)])


def test_an_upload_without_files_or_with_too_many_is_refused(tenant, admin_user, records):
    customer = records.customer()
    with pytest.raises(ValidationError, match="at least one file"):
        attach(tenant, admin_user, customer, [])
    with pytest.raises(ValidationError, match="At most 20 files"):
        attach(tenant, admin_user, customer, [text() for _ in range(21)])


def test_names_lose_folders_and_control_characters_and_keep_chinese():
    assert clean_name("C:\\Users\\li\\合同 2026.pdf") == "合同 2026.pdf"
    assert clean_name("../../etc/passwd\x00.txt") == "passwd.txt"
    assert clean_name("a" * 300 + ".pdf") == "a" * 251 + ".pdf"
    assert clean_name("  ..  ") == ""


@pytest.mark.parametrize(
    ("role", "on", "allowed"),
    [
        ("manager", "customer", True),
        ("rep", "customer", False),  # not their customer: not even visible
        ("support", "ticket", True),  # support works tickets
        ("support", "customer", False),
        ("viewer", "ticket", False),
    ],
)
def test_who_may_attach_to_what(tenant, records, role, on, allowed):
    member = make_member(tenant, role=role)
    record = records.any(on)
    if allowed:
        assert attach(tenant, member, record, [text()])
    else:
        with pytest.raises(PermissionDenied):
            attach(tenant, member, record, [text()])


def test_a_rep_attaches_to_their_own_customers_deals(tenant, records):
    rep = make_member(tenant, role="rep")
    deal = records.opportunity(records.customer(owner=rep))
    (attachment,) = attach(tenant, rep, deal, [text()])
    with activate(tenant, user=rep):
        assert list(Attachment.objects.for_user(rep)) == [attachment]


def test_support_never_sees_the_pipelines_files(tenant, admin_user, records):
    support = make_member(tenant, role="support")
    customer = records.customer()
    attach(tenant, admin_user, records.opportunity(customer), [text("deal.txt")])
    on_ticket = attach(tenant, admin_user, records.ticket(customer), [text("ticket.txt")])
    with activate(tenant, user=support):
        assert list(Attachment.objects.for_user(support)) == on_ticket


def test_another_companys_files_are_invisible(tenant, admin_user, records, other_records):
    theirs = other_records.attachment()
    with activate(tenant, user=admin_user):
        assert not Attachment.objects.for_user(admin_user).filter(pk=theirs.pk).exists()
