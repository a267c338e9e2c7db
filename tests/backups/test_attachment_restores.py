"""Backups contain the files: company and customer restores bring them back byte for byte, and a
drill checks every file's bytes against its checksum."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from attachments.actions import attach_files
from attachments.models import CHUNK_BYTES, Attachment
from backups.drills import drill
from backups.dump import take_backup
from backups.models import Backup, RestoreRun
from backups.restore import restore_customer, restore_tenant
from crm.recyclebin import actions as recyclebin
from crm.recyclebin.actions import Item
from crm.tenancy.context import activate
from customers.models import Customer
from tests.attachments.helpers import PDF, stored_bytes
from tests.factories import RecordMaker, make_member, make_tenant

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def filed():
    tenant = make_tenant("filed")
    admin = make_member(tenant, "filed-admin", role="admin")
    maker = RecordMaker(tenant, admin)
    customer = maker.customer(name="Keeps files")
    ticket = maker.ticket(customer)
    contents = {"big.pdf": PDF + bytes(range(256)) * (CHUNK_BYTES // 128), "合同.txt": "第一条。\n".encode()}
    files = [SimpleUploadedFile(name, content) for name, content in contents.items()]
    attachments = maker._run(attach_files, customer, files[:1]) + maker._run(attach_files, ticket, files[1:])
    other = maker.customer(name="Other")
    return {
        "tenant": tenant,
        "admin": admin,
        "maker": maker,
        "customer": customer,
        "other": other,
        "files": {attachment.pk: contents[attachment.name] for attachment in attachments},
    }


def assert_files_back(files):
    for pk, content in files.items():
        assert Attachment.all_objects.get(pk=pk).deleted_at is None
        assert stored_bytes(pk) == content, pk


def test_a_company_restore_brings_back_purged_files_byte_for_byte(filed):
    backup = take_backup()
    tenant, admin = filed["tenant"], filed["admin"]
    with activate(tenant, user=admin):
        recyclebin.delete(Customer.objects.filter(pk=filed["customer"].pk), acting_user=admin)
        recyclebin.purge([Item(Customer, filed["customer"].pk)], acting_user=admin)
    assert all(stored_bytes(pk) == b"" for pk in filed["files"])
    added_since = filed["maker"].attachment(filed["other"], name="later.txt")

    with activate(tenant, user=admin):
        run = restore_tenant(backup, tenant, user=admin)
    assert run.status == RestoreRun.Status.DONE, run.error or run.report
    assert_files_back(filed["files"])
    # A file the backup lacks is set aside in the recycle bin, its bytes kept.
    later = Attachment.all_objects.get(pk=added_since.pk)
    assert later.deleted_at is not None and stored_bytes(later.pk) == b"Meeting notes.\n"


def test_a_customer_restore_brings_back_its_files_and_its_tickets_files(filed):
    backup = take_backup()
    tenant, admin = filed["tenant"], filed["admin"]
    with activate(tenant, user=admin):
        recyclebin.delete(Customer.objects.filter(pk=filed["customer"].pk), acting_user=admin)
        recyclebin.purge([Item(Customer, filed["customer"].pk)], acting_user=admin)
        run = restore_customer(backup, tenant, filed["customer"].pk)
    assert run.status == RestoreRun.Status.DONE, run.error or run.report
    assert run.report["rows"]["attachments_attachmentchunk"] == 4  # 2 MiB and a little: 3 chunks; the text: 1
    assert_files_back(filed["files"])
    assert Attachment.history.filter(history_change_reason="restored from backup").count() == 2


def test_a_drill_checks_every_files_bytes(filed):
    backup = take_backup()
    assert drill(backup).passed
    # Damage one chunk, then back up: the row counts still agree, the bytes do not.
    with connection.cursor() as cursor:
        cursor.execute("UPDATE attachments_attachmentchunk SET data = 'x'::bytea WHERE seq = 1")
    damaged = take_backup()
    result = drill(damaged)
    assert not result.passed
    assert [(m["table"], m["attachment"]) for m in result.mismatches] == [
        ("attachments_attachment", pk) for pk, content in filed["files"].items() if len(content) > CHUNK_BYTES
    ]
    damaged.refresh_from_db()
    assert damaged.status == Backup.Status.BAD
