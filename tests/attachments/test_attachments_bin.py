"""A file is a record like the others: into the recycle bin with its record's batch and back with
it, kept while in the bin, and erased (its bytes too) by a purge; legal hold stops that purge."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from attachments.actions import attach_files
from attachments.models import Attachment, AttachmentChunk
from crm.recyclebin import actions as recyclebin
from crm.recyclebin.actions import Item
from crm.tenancy.context import activate
from customers.models import Customer, Ticket
from tests.attachments.helpers import chunk_count, pdf, stored_bytes
from tests.conftest import login
from tests.factories import make_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def filed(tenant, admin_user, records):
    """A customer with a file of its own and a ticket with a file."""
    customer = records.customer(name="Filed Co")
    ticket = records.ticket(customer)
    upload = pdf(size=50_000)
    content = upload.read()
    upload.seek(0)
    own = records._run(attach_files, customer, [upload])[0]
    on_ticket = records.attachment(ticket)
    return {"customer": customer, "ticket": ticket, "own": own, "on_ticket": on_ticket, "content": content}


def alive(model, pk) -> bool:
    return model.all_objects.filter(pk=pk, deleted_at__isnull=True).exists()


def test_a_deleted_record_takes_its_files_into_the_same_batch_and_undo_brings_them_back(tenant, admin_user, filed):
    with activate(tenant, user=admin_user):
        batch = recyclebin.delete(Customer.objects.filter(pk=filed["customer"].pk), acting_user=admin_user)
        assert batch.counts == {"customer": 1, "ticket": 1, "attachment": 2}
        assert not Attachment.objects.exists()
        recyclebin.restore_batch(batch.id, acting_user=admin_user)
    assert alive(Attachment, filed["own"].pk) and alive(Attachment, filed["on_ticket"].pk)
    assert stored_bytes(filed["own"].pk) == filed["content"]


def test_a_ticket_deleted_alone_takes_only_its_own_file(tenant, admin_user, filed):
    with activate(tenant, user=admin_user):
        batch = recyclebin.delete(Ticket.objects.filter(pk=filed["ticket"].pk), acting_user=admin_user)
    assert batch.counts == {"ticket": 1, "attachment": 1}
    assert alive(Attachment, filed["own"].pk) and not alive(Attachment, filed["on_ticket"].pk)


def test_a_file_deleted_alone_is_undone_alone_and_cannot_come_back_without_its_record(tenant, admin_user, filed):
    with activate(tenant, user=admin_user):
        alone = recyclebin.delete(Attachment.objects.filter(pk=filed["on_ticket"].pk), acting_user=admin_user)
        assert alone.counts == {"attachment": 1}
        recyclebin.restore_batch(alone.id, acting_user=admin_user)
        assert alive(Attachment, filed["on_ticket"].pk)
        recyclebin.delete(Ticket.objects.filter(pk=filed["ticket"].pk), acting_user=admin_user)
        with pytest.raises(recyclebin.softdelete.RestoreConflict, match="ticket"):
            recyclebin.restore([Item(Attachment, filed["on_ticket"].pk)], acting_user=admin_user)


def test_a_purge_erases_the_files_bytes_and_its_name_from_history(tenant, admin_user, filed):
    pk = filed["own"].pk
    with activate(tenant, user=admin_user):
        recyclebin.delete(Customer.objects.filter(pk=filed["customer"].pk), acting_user=admin_user)
        recyclebin.purge([Item(Customer, filed["customer"].pk)], acting_user=admin_user)
    assert chunk_count(pk) == 0 and not AttachmentChunk.all_objects.filter(tenant=tenant).exists()
    assert not Attachment.all_objects.filter(pk=pk).exists()
    names = set(Attachment.history.model.objects.filter(id=pk).values_list("name", flat=True))
    assert "contract.pdf" not in names
    assert Attachment.history.model.objects.filter(id=pk, history_type="-").exists()


def test_legal_hold_stops_the_purge_of_a_file(tenant, admin_user, filed):
    tenant.legal_hold = True
    tenant.save()
    with activate(tenant, user=admin_user):
        recyclebin.delete(Attachment.objects.filter(pk=filed["own"].pk), acting_user=admin_user)
        with pytest.raises(PermissionDenied):
            recyclebin.purge([Item(Attachment, filed["own"].pk)], acting_user=admin_user)
    assert chunk_count(filed["own"].pk) > 0


def test_a_rep_deletes_files_of_their_customers_only(tenant, records, filed):
    rep = make_member(tenant, role="rep")
    mine = records.attachment(records.customer(owner=rep))
    with activate(tenant, user=rep):
        recyclebin.delete(Attachment.objects.filter(pk=mine.pk), acting_user=rep)
        with pytest.raises(PermissionDenied):
            recyclebin.delete(Attachment.objects.filter(pk=filed["own"].pk), acting_user=rep)


def test_the_bin_lists_a_deleted_file_by_its_name(tenant, admin_user, filed):
    with activate(tenant, user=admin_user):
        recyclebin.delete(Attachment.objects.filter(pk=filed["own"].pk), acting_user=admin_user)
    html = login(admin_user).get(reverse("bin:list")).content.decode()
    assert "contract.pdf" in html and f"attachment:{filed['own'].pk}" in html
