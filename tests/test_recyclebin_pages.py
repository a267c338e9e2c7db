"""The browser side of soft delete: confirm, delete, undo, the bin, restore, purge, grants."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from guardian.shortcuts import assign_perm

from crm.recyclebin import actions as recyclebin
from crm.tenancy.context import activate
from customers.models import Contact, Customer, Interaction, Ticket
from sales.models import Opportunity
from tests.conftest import login
from tests.factories import RECORD_TYPES, make_member

MODELS = {
    "customer": Customer,
    "contact": Contact,
    "interaction": Interaction,
    "ticket": Ticket,
    "opportunity": Opportunity,
}


def page(response) -> str:
    return response.content.decode()


def delete_url(record_type, *ids, **params):
    query = "&".join([f"ids={','.join(map(str, ids))}", *(f"{key}={value}" for key, value in params.items())])
    return f"{reverse('bin:delete', args=[record_type])}?{query}"


def soft_delete(tenant, user, record):
    """Delete `record` as `user` through the action; returns the batch."""
    with activate(tenant, user=user):
        return recyclebin.delete(type(record).objects.filter(pk=record.pk), acting_user=user)


def batch_of(record):
    return type(record).all_objects.get(pk=record.pk).deletion_batch


def alive(record) -> bool:
    return type(record).all_objects.filter(pk=record.pk, deleted_at__isnull=True).exists()


def in_bin(record) -> bool:
    return type(record).all_objects.filter(pk=record.pk, deleted_at__isnull=False).exists()


def gone(record) -> bool:
    return not type(record).all_objects.filter(pk=record.pk).exists()


@pytest.fixture
def family(records):
    """A customer with three contacts and two tickets."""
    customer = records.customer(name="Family Co", email="family@example.com")
    return {
        "customer": customer,
        "contacts": [records.contact(customer) for _ in range(3)],
        "tickets": [records.ticket(customer) for _ in range(2)],
    }


@pytest.fixture
def admin(admin_user):
    client = login(admin_user)
    client.user = admin_user
    return client


# -- delete: confirmation ------------------------------------------------------------


def test_delete_confirmation_lists_the_record_and_the_cascade_counts(family, admin):
    customer = family["customer"]
    response = admin.get(delete_url("customer", customer.pk))
    assert response.status_code == 200
    text = page(response)
    assert "1 customer, 3 contacts, 2 tickets will be moved to the recycle bin." in text
    assert "Family Co" in text
    assert 'data-testid="confirm-button"' in text
    assert alive(customer) and all(alive(contact) for contact in family["contacts"])


def test_a_bulk_selection_form_post_without_confirm_shows_the_confirmation(records, admin):
    first, second = records.customer(name="First"), records.customer(name="Second")
    response = admin.post(reverse("bin:delete", args=["customer"]), {"ids": [first.pk, second.pk]})
    assert response.status_code == 200
    text = page(response)
    assert "2 customers will be moved to the recycle bin." in text
    assert "First" in text and "Second" in text
    assert f'value="{first.pk},{second.pk}"' in text
    assert alive(first) and alive(second)


# -- delete: confirm, message, undo --------------------------------------------------


def test_confirm_deletes_and_the_message_offers_undo(family, admin):
    customer = family["customer"]
    response = admin.post(
        reverse("bin:delete", args=["customer"]),
        {"ids": str(customer.pk), "confirm": "1", "next": reverse("customers:list")},
    )
    assert response.status_code == 302 and response.url == reverse("customers:list")
    assert in_bin(customer) and all(in_bin(ticket) for ticket in family["tickets"])
    text = page(admin.get(response.url))
    assert "Moved to the recycle bin: 1 customer, 3 contacts, 2 tickets." in text
    assert 'data-testid="undo-button"' in text
    assert reverse("bin:undo", args=[batch_of(customer)]) in text


def test_undo_restores_exactly_the_batch(family, records, admin):
    customer = family["customer"]
    earlier = family["contacts"][0]
    soft_delete(records.tenant, admin.user, earlier)  # deleted before, in its own batch
    admin.post(reverse("bin:delete", args=["customer"]), {"ids": str(customer.pk), "confirm": "1"})
    batch = batch_of(customer)

    response = admin.post(reverse("bin:undo", args=[batch]), {"next": reverse("customers:list")})

    assert response.status_code == 302 and response.url == reverse("customers:list")
    assert alive(customer) and all(alive(ticket) for ticket in family["tickets"])
    assert in_bin(earlier)
    assert "Undone: 1 customer, 2 contacts, 2 tickets restored." in page(admin.get(response.url))

    again = admin.post(reverse("bin:undo", args=[batch]), follow=True)
    assert again.status_code == 200
    assert "already restored or purged" in page(again)


@pytest.mark.parametrize("record_type", RECORD_TYPES)
def test_single_delete_of_every_type(record_type, records, admin):
    record = records.any(record_type)
    response = admin.post(reverse("bin:delete", args=[record_type]), {"ids": str(record.pk), "confirm": "1"})
    assert response.status_code == 302 and response.url == reverse("bin:list")
    assert in_bin(record)
    listed = page(admin.get(reverse("bin:list")))
    assert f'data-item="{record_type}:{record.pk}"' in listed


def test_bulk_delete_is_one_batch(records, admin):
    tickets = [records.ticket() for _ in range(4)]
    response = admin.post(
        reverse("bin:delete", args=["ticket"]), {"ids": [str(t.pk) for t in tickets[:3]], "confirm": "1"}
    )
    assert response.status_code == 302
    assert {batch_of(ticket) for ticket in tickets[:3]} != {None}
    assert len({batch_of(ticket) for ticket in tickets[:3]}) == 1
    assert alive(tickets[3])


def test_next_must_point_to_this_site(records, admin):
    customer = records.customer()
    response = admin.post(
        reverse("bin:delete", args=["customer"]),
        {"ids": str(customer.pk), "confirm": "1", "next": "https://evil.example/steal"},
    )
    assert response.status_code == 302 and response.url == reverse("bin:list")


def test_a_viewer_gets_403_on_delete(records, member_client):
    viewer = member_client("viewer")
    customer = records.customer()
    assert viewer.get(delete_url("customer", customer.pk)).status_code == 403
    response = viewer.post(reverse("bin:delete", args=["customer"]), {"ids": str(customer.pk), "confirm": "1"})
    assert response.status_code == 403
    assert alive(customer)


def test_support_may_not_delete_customers_but_their_own_tickets(records, member_client):
    agent = member_client("support")
    customer = records.customer()
    theirs, others = records.ticket(customer, assignee=agent.user), records.ticket(customer)
    assert agent.get(delete_url("customer", customer.pk)).status_code == 403
    assert agent.get(delete_url("ticket", others.pk)).status_code == 403
    assert (
        agent.post(reverse("bin:delete", args=["ticket"]), {"ids": str(others.pk), "confirm": "1"}).status_code == 403
    )
    assert agent.get(delete_url("ticket", theirs.pk)).status_code == 200
    assert (
        agent.post(reverse("bin:delete", args=["ticket"]), {"ids": str(theirs.pk), "confirm": "1"}).status_code == 302
    )
    assert in_bin(theirs) and alive(others)


def test_a_rep_cannot_reach_another_reps_customer(tenant, records, member_client):
    rep = member_client("rep")
    someone_elses = records.customer()
    assert rep.get(delete_url("customer", someone_elses.pk)).status_code == 404
    response = rep.post(reverse("bin:delete", args=["customer"]), {"ids": str(someone_elses.pk), "confirm": "1"})
    assert response.status_code in (403, 404)
    assert alive(someone_elses)


@pytest.mark.parametrize(
    "ids",
    ["", "abc", "1;drop", "-4", "0", "1.5", "99999999999999999999999", "1,\x00", "١٢", ",".join(["1"] * 1001)],
)
def test_bad_ids_are_a_clear_400(ids, records, admin):
    records.customer()
    response = admin.get(reverse("bin:delete", args=["customer"]), {"ids": ids})
    assert response.status_code == 400
    assert 'data-testid="problem-message"' in page(response)
    response = admin.post(reverse("bin:delete", args=["customer"]), {"ids": ids, "confirm": "1"})
    assert response.status_code == 400


def test_up_to_a_thousand_ids_are_accepted(records, admin):
    customer = records.customer()
    ids = [customer.pk, *range(10**9, 10**9 + 999)]
    response = admin.post(reverse("bin:delete", args=["customer"]), {"ids": ",".join(map(str, ids))})
    assert response.status_code == 404  # all but one do not exist: said clearly, nothing deleted
    assert "999 of the selected records do not exist" in page(response)
    assert alive(customer)


def test_missing_deleted_and_foreign_ids_are_404(records, other_records, admin):
    deleted = records.customer()
    soft_delete(records.tenant, admin.user, deleted)
    theirs = other_records.customer()
    for pk in (deleted.pk, theirs.pk, 987654321):
        response = admin.get(delete_url("customer", pk))
        assert response.status_code == 404, pk
        assert "already in the recycle bin" in page(response)
    response = admin.post(reverse("bin:delete", args=["customer"]), {"ids": str(theirs.pk), "confirm": "1"})
    assert response.status_code in (302, 404)
    assert alive(theirs)


def test_unknown_types_are_404(admin):
    assert admin.get(reverse("bin:delete", args=["user"]) + "?ids=1").status_code == 404
    assert admin.get(reverse("bin:delete", args=["customershare"]) + "?ids=1").status_code == 404
    assert admin.get(reverse("bin:restore_one", args=["user", 1])).status_code == 404
    assert admin.get(reverse("bin:item", args=["nothing", 1])).status_code == 404


@pytest.mark.parametrize(
    "items", ["", "customer", "customer:abc", "nope:1", "customer:1,:2", "customer:99999999999999999999"]
)
def test_bad_items_are_a_clear_400(items, admin):
    for name in ("bin:restore", "bin:purge"):
        assert admin.post(reverse(name), {"items": items}).status_code == 400
        assert admin.post(reverse(name), {"items": items, "confirm": "1"}).status_code == 400


def test_bad_urls_are_404_not_500(admin):
    assert admin.post("/recycle-bin/undo/not-a-uuid/").status_code == 404
    assert admin.get(reverse("bin:item", args=["customer", 2**64])).status_code == 404
    assert admin.get(reverse("bin:restore_one", args=["customer", 2**64])).status_code == 404
    assert (
        admin.get(reverse("bin:list"), {"page": "x", "since": "yesterday", "batch": "zzz", "q": "\x00"}).status_code
        == 200
    )


# -- the bin page ------------------------------------------------------------------------


def rows_of(response) -> list[str]:
    return [line.split('data-item="')[1].split('"')[0] for line in page(response).splitlines() if 'data-item="' in line]


@pytest.fixture
def binful(tenant, records, admin_user):
    """A deleted customer with one child of each type, and a ticket a manager deleted on its own."""
    manager = make_member(tenant, "mona", role="manager")
    customer = records.customer(name="Binful Co", email="binful@example.com")
    children = [records.contact(customer), records.interaction(customer), records.opportunity(customer)]
    children.append(records.ticket(customer))
    lone = records.ticket(subject="Lonely printer")
    soft_delete(tenant, admin_user, customer)
    soft_delete(tenant, manager, lone)
    return {"customer": customer, "children": children, "lone": lone, "manager": manager}


def test_the_bin_lists_every_type_with_who_and_how_many(binful, admin):
    response = admin.get(reverse("bin:list"))
    assert response.status_code == 200
    listed = rows_of(response)
    # Files are in the bin with their records too: tests/attachments/test_attachments_bin.py.
    assert {key.split(":")[0] for key in listed} == set(RECORD_TYPES) - {"attachment"}
    assert listed[0] == f"ticket:{binful['lone'].pk}"  # newest first
    text = page(response)
    assert "mona" in text and "alice" in text
    assert "5 records" in text  # the customer went with four children
    assert "30 days" in text  # default retention
    assert "Deleted records stay in the recycle bin for 30 days" in text


def test_the_bin_filters_by_type_person_date_and_search(binful, admin):
    url = reverse("bin:list")
    assert rows_of(admin.get(url, {"type": "customer"})) == [f"customer:{binful['customer'].pk}"]
    assert rows_of(admin.get(url, {"deleted_by": binful["manager"].pk})) == [f"ticket:{binful['lone'].pk}"]
    assert rows_of(admin.get(url, {"q": "printer"})) == [f"ticket:{binful['lone'].pk}"]
    today = timezone.localdate()
    assert len(rows_of(admin.get(url, {"since": today, "until": today}))) == 6
    assert rows_of(admin.get(url, {"since": today + timedelta(days=1)})) == []
    assert rows_of(admin.get(url, {"until": today - timedelta(days=1)})) == []
    batch = rows_of(admin.get(url, {"batch": batch_of(binful["customer"])}))
    assert len(batch) == 5 and f"ticket:{binful['lone'].pk}" not in batch


def test_bad_filters_say_why(binful, admin):
    today = timezone.localdate()
    response = admin.get(reverse("bin:list"), {"since": today, "until": today - timedelta(days=3)})
    assert response.status_code == 200
    assert "The start date is after the end date." in page(response)
    response = admin.get(reverse("bin:list"), {"deleted_by": "nobody"})
    assert response.status_code == 200 and "Select a valid choice" in page(response)
    response = admin.get(reverse("bin:list"), {"deleted_by": "99999999999999999999999"})
    assert response.status_code == 200


def test_the_bin_paginates_and_keeps_the_filters(tenant, records, admin):
    tickets = [records.ticket(subject=f"Paged {n}") for n in range(30)]
    with activate(tenant, user=admin.user):
        for ticket in tickets:
            recyclebin.delete(Ticket.objects.filter(pk=ticket.pk), acting_user=admin.user)
    first = admin.get(reverse("bin:list"), {"type": "ticket", "q": "Paged"})
    assert len(rows_of(first)) == 25
    assert "page=2" in page(first) and "type=ticket" in page(first) and "q=Paged" in page(first)
    second = admin.get(reverse("bin:list"), {"type": "ticket", "q": "Paged", "page": 2})
    assert len(rows_of(second)) == 5
    assert set(rows_of(first)).isdisjoint(rows_of(second))
    assert admin.get(reverse("bin:list"), {"page": 99}).status_code == 200


def test_the_bin_runs_a_constant_number_of_queries(tenant, records, admin):
    def delete_families(count):
        for _ in range(count):
            customer = records.customer()
            records.contact(customer)
            records.interaction(customer)
            records.ticket(customer)
            records.opportunity(customer)
            soft_delete(tenant, admin.user, customer)

    delete_families(1)
    admin.get(reverse("bin:list"))  # warm caches
    with CaptureQueriesContext(connection) as few:
        assert len(rows_of(admin.get(reverse("bin:list")))) == 5
    delete_families(12)
    with CaptureQueriesContext(connection) as many:
        assert len(rows_of(admin.get(reverse("bin:list")))) == 25
    assert len(many) == len(few), [query["sql"] for query in many.captured_queries]


def test_a_manager_sees_the_purge_button_only_where_granted(binful, tenant, member_client, admin_user):
    manager = member_client("manager")
    text = page(manager.get(reverse("bin:list")))
    assert 'data-testid="purge-one"' not in text and 'data-testid="empty-bin"' not in text
    with activate(tenant, user=admin_user):
        assign_perm("customers.purge_ticket", manager.user, Ticket.all_objects.get(pk=binful["lone"].pk))
    text = page(manager.get(reverse("bin:list")))
    assert text.count('data-testid="purge-one"') == 1


def test_the_bin_shows_legal_hold(binful, tenant, admin):
    tenant.legal_hold = True
    tenant.save()
    text = page(admin.get(reverse("bin:list")))
    assert "on legal hold" in text and "nothing in the recycle bin is purged" in text


def test_a_viewer_has_no_recycle_bin(binful, member_client):
    viewer = member_client("viewer")
    assert viewer.get(reverse("bin:list")).status_code == 403
    assert 'data-testid="nav-recycle-bin"' not in page(viewer.get(reverse("dashboard")))
    rep = member_client("rep")
    assert 'data-testid="nav-recycle-bin"' in page(rep.get(reverse("dashboard")))


# -- restore ---------------------------------------------------------------------------


def test_restore_one_confirms_then_restores_with_its_batch(binful, admin):
    customer = binful["customer"]
    url = reverse("bin:restore_one", args=["customer", customer.pk])
    confirmation = admin.get(url)
    assert confirmation.status_code == 200
    text = page(confirmation)
    assert (
        "1 customer, 1 contact, 1 interaction, 1 ticket, 1 opportunity will be restored." in text
        and 'data-testid="confirm-button"' in text
    )
    assert in_bin(customer)
    response = admin.post(url, {"confirm": "1"})
    assert response.status_code == 302 and response.url == reverse("bin:list")
    assert alive(customer) and all(alive(child) for child in binful["children"])
    assert in_bin(binful["lone"])


def test_restore_selected(tenant, records, admin):
    tickets = [records.ticket() for _ in range(3)]
    for ticket in tickets:
        soft_delete(tenant, admin.user, ticket)
    items = ",".join(f"ticket:{ticket.pk}" for ticket in tickets[:2])
    confirmation = admin.post(reverse("bin:restore"), {"items": [f"ticket:{t.pk}" for t in tickets[:2]]})
    assert confirmation.status_code == 200 and "2 tickets will be restored." in page(confirmation)
    assert f'value="{items}"' in page(confirmation)
    response = admin.post(reverse("bin:restore"), {"items": items, "confirm": "1", "next": "/recycle-bin/?type=ticket"})
    assert response.status_code == 302 and response.url == "/recycle-bin/?type=ticket"
    assert alive(tickets[0]) and alive(tickets[1]) and in_bin(tickets[2])


def test_restore_a_whole_batch(binful, admin):
    batch = batch_of(binful["customer"])
    url = reverse("bin:restore_batch", args=[batch])
    confirmation = admin.get(url)
    assert confirmation.status_code == 200
    assert "1 customer, 1 contact, 1 interaction, 1 ticket, 1 opportunity will be restored." in page(confirmation)
    assert admin.post(url, {"confirm": "1"}).status_code == 302
    assert alive(binful["customer"]) and all(alive(child) for child in binful["children"])
    assert admin.get(url).status_code == 404  # nothing of it left in the bin


def test_a_restore_refused_for_a_deleted_parent_offers_to_restore_the_parent_too(tenant, records, admin):
    customer = records.customer(name="Parent Co", email="parent@example.com")
    ticket = records.ticket(customer, subject="Orphan ticket")
    soft_delete(tenant, admin.user, ticket)  # the ticket first, in its own batch
    soft_delete(tenant, admin.user, customer)

    response = admin.post(reverse("bin:restore_one", args=["ticket", ticket.pk]), {"confirm": "1"})

    assert response.status_code == 409
    text = page(response)
    assert "Parent Co" in text and "is in the recycle bin" in text
    assert 'data-testid="restore-parent-button"' in text
    offer = f"customer:{customer.pk},ticket:{ticket.pk}"
    assert f'value="{offer}"' in text
    assert in_bin(ticket)

    confirmation = admin.post(reverse("bin:restore"), {"items": offer})
    assert "1 customer, 1 ticket will be restored." in page(confirmation)
    assert admin.post(reverse("bin:restore"), {"items": offer, "confirm": "1"}).status_code == 302
    assert alive(customer) and alive(ticket)


def test_a_restore_refused_for_a_taken_email_says_so(tenant, records, admin):
    old = records.customer(name="Old Name", email="shared@example.com")
    soft_delete(tenant, admin.user, old)
    records.customer(name="New Name", email="SHARED@example.com")
    response = admin.post(reverse("bin:restore_one", args=["customer", old.pk]), {"confirm": "1"})
    assert response.status_code == 409
    text = page(response)
    assert "Another customer already uses this email address." in text
    assert 'data-testid="restore-parent-button"' not in text
    assert in_bin(old)


def test_restoring_what_is_no_longer_in_the_bin_is_404(records, admin):
    customer = records.customer()
    url = reverse("bin:restore_one", args=["customer", customer.pk])
    assert admin.get(url).status_code == 404
    response = admin.post(url, {"confirm": "1"})
    assert response.status_code == 404
    assert "not in the recycle bin" in page(response)


def test_a_rep_sees_and_restores_only_what_they_deleted(tenant, records, member_client, admin_user):
    rep = member_client("rep")
    own = records.customer(owner=rep.user, name="Rep's own")
    others = records.customer(name="Admin's doing")
    soft_delete(tenant, rep.user, own)
    soft_delete(tenant, admin_user, others)

    assert rows_of(rep.get(reverse("bin:list"))) == [f"customer:{own.pk}"]
    assert rep.get(reverse("bin:restore_one", args=["customer", others.pk])).status_code == 404
    response = rep.post(reverse("bin:restore_one", args=["customer", others.pk]), {"confirm": "1"})
    assert response.status_code == 404  # as for an id that does not exist
    assert rep.post(reverse("bin:restore_batch", args=[batch_of(others)]), {"confirm": "1"}).status_code == 404
    assert in_bin(others)

    assert rep.post(reverse("bin:restore_one", args=["customer", own.pk]), {"confirm": "1"}).status_code == 302
    assert alive(own)
    text = page(rep.get(reverse("bin:list")))
    assert 'data-testid="purge-selected"' not in text and 'data-testid="empty-bin"' not in text


def test_another_tenants_bin_is_404(other_records, other_tenant, admin):
    theirs = other_records.customer()
    soft_delete(other_tenant, other_records.actor, theirs)
    batch = batch_of(theirs)
    assert rows_of(admin.get(reverse("bin:list"))) == []
    assert admin.get(reverse("bin:item", args=["customer", theirs.pk])).status_code == 404
    assert admin.get(reverse("bin:restore_one", args=["customer", theirs.pk])).status_code == 404
    assert admin.post(reverse("bin:restore_one", args=["customer", theirs.pk]), {"confirm": "1"}).status_code == 404
    assert admin.post(reverse("bin:restore"), {"items": f"customer:{theirs.pk}", "confirm": "1"}).status_code == 404
    assert admin.get(reverse("bin:purge"), {"items": f"customer:{theirs.pk}"}).status_code == 404
    assert admin.post(reverse("bin:purge"), {"items": f"customer:{theirs.pk}", "confirm": "1"}).status_code == 404
    assert admin.get(reverse("bin:restore_batch", args=[batch])).status_code == 404
    assert admin.post(reverse("bin:restore_batch", args=[batch]), {"confirm": "1"}).status_code == 404
    assert admin.post(reverse("bin:grant_purge", args=["customer", theirs.pk]), {"user": 1}).status_code == 404
    admin.post(reverse("bin:undo", args=[batch]))
    assert in_bin(theirs)


# -- purge ------------------------------------------------------------------------------


def test_an_admin_purges_after_a_confirmation_that_counts_the_cascade(binful, admin):
    customer = binful["customer"]
    confirmation = admin.get(reverse("bin:purge"), {"items": f"customer:{customer.pk}"})
    assert confirmation.status_code == 200
    text = page(confirmation)
    assert "1 customer, 1 contact, 1 interaction, 1 ticket, 1 opportunity will be permanently deleted." in text
    assert "cannot be undone" in text
    assert in_bin(customer)
    response = admin.post(reverse("bin:purge"), {"items": f"customer:{customer.pk}", "confirm": "1"})
    assert response.status_code == 302
    assert gone(customer) and all(gone(child) for child in binful["children"])
    assert in_bin(binful["lone"])


def test_purge_selected(binful, admin):
    items = f"customer:{binful['customer'].pk},ticket:{binful['lone'].pk}"
    assert "2 tickets" in page(admin.post(reverse("bin:purge"), {"items": items}))
    assert admin.post(reverse("bin:purge"), {"items": items, "confirm": "1"}).status_code == 302
    assert gone(binful["customer"]) and gone(binful["lone"])


def test_a_manager_needs_a_grant_which_an_admin_gives_and_takes_back(binful, member_client, admin):
    manager = member_client("manager")
    lone = binful["lone"]
    purge_data = {"items": f"ticket:{lone.pk}", "confirm": "1"}
    assert manager.get(reverse("bin:purge"), {"items": f"ticket:{lone.pk}"}).status_code == 403
    assert manager.post(reverse("bin:purge"), purge_data).status_code == 403
    assert in_bin(lone)

    item_url = reverse("bin:item", args=["ticket", lone.pk])
    assert 'data-testid="no-grants"' in page(admin.get(item_url))
    response = admin.post(reverse("bin:grant_purge", args=["ticket", lone.pk]), {"user": manager.user.pk})
    assert response.status_code == 302 and response.url == item_url
    text = page(admin.get(item_url))
    assert 'data-testid="purge-grant"' in text and manager.user.username in text

    admin.post(reverse("bin:revoke_purge", args=["ticket", lone.pk]), {"user": manager.user.pk})
    assert 'data-testid="no-grants"' in page(admin.get(item_url))
    assert manager.post(reverse("bin:purge"), purge_data).status_code == 403

    admin.post(reverse("bin:grant_purge", args=["ticket", lone.pk]), {"user": manager.user.pk})
    assert 'data-testid="purge-one"' in page(manager.get(item_url))
    assert manager.get(reverse("bin:purge"), {"items": f"ticket:{lone.pk}"}).status_code == 200
    assert manager.post(reverse("bin:purge"), purge_data).status_code == 302
    assert gone(lone)


def test_only_admins_grant_and_only_to_managers_of_the_tenant(binful, tenant, other_tenant, member_client, admin):
    lone = binful["lone"]
    url = reverse("bin:grant_purge", args=["ticket", lone.pk])
    manager = member_client("manager")
    rep = make_member(tenant, "randy", role="rep")
    outsider = make_member(other_tenant, "otto", role="manager")
    assert manager.post(url, {"user": manager.user.pk}).status_code == 403
    assert member_client("rep").post(url, {"user": manager.user.pk}).status_code == 403
    for user in (rep, outsider):
        response = admin.post(url, {"user": user.pk}, follow=True)
        assert "Choose a manager of this company." in page(response)
    for bad in ("", "abc", "99999999999999999999999"):
        assert admin.post(url, {"user": bad}).status_code == 302
    text = page(admin.get(reverse("bin:item", args=["ticket", lone.pk])))
    assert 'data-testid="no-grants"' in text
    assert "randy" not in text.split('data-testid="purge-grants"')[1]
    assert 'data-testid="purge-grants"' not in page(manager.get(reverse("bin:item", args=["ticket", lone.pk])))


def test_emptying_the_bin_is_for_admins(binful, member_client, admin):
    manager = member_client("manager")
    assert manager.get(reverse("bin:empty")).status_code == 403
    assert manager.post(reverse("bin:empty"), {"confirm": "1"}).status_code == 403
    assert in_bin(binful["customer"])

    confirmation = admin.get(reverse("bin:empty"))
    assert confirmation.status_code == 200
    assert "1 customer, 1 contact, 1 interaction, 2 tickets, 1 opportunity will be permanently deleted." in page(
        confirmation
    )
    assert admin.post(reverse("bin:empty"), {"confirm": "1"}).status_code == 302
    assert gone(binful["customer"]) and gone(binful["lone"])
    response = admin.get(reverse("bin:empty"), follow=True)
    assert "The recycle bin is already empty." in page(response)


def test_pages_need_a_login(binful):
    from django.test import Client

    response = Client().get(reverse("bin:list"))
    assert response.status_code == 302 and "/accounts/login/" in response.url


def test_nothing_is_purged_by_hand_while_on_legal_hold(binful, tenant, admin):
    tenant.legal_hold = True
    tenant.save()
    items = {"items": f"customer:{binful['customer'].pk}"}
    text = page(admin.get(reverse("bin:list")))
    assert 'data-testid="purge-one"' not in text and 'data-testid="empty-bin"' not in text
    assert admin.get(reverse("bin:purge"), items).status_code == 403
    response = admin.post(reverse("bin:purge"), {**items, "confirm": "1"})
    assert response.status_code == 403 and "legal hold" in page(response)
    assert admin.post(reverse("bin:empty"), {"confirm": "1"}).status_code == 403
    assert in_bin(binful["customer"]) and in_bin(binful["lone"])
    assert (
        admin.post(reverse("bin:restore_one", args=["customer", binful["customer"].pk]), {"confirm": "1"}).status_code
        == 302
    )
