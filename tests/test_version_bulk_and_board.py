"""Bulk actions and the pipeline board move only what the person saw; rows changed since are left alone and reported."""

import re

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crm.history.actions import revert
from crm.recyclebin import actions as recyclebin
from crm.tenancy.context import activate
from customers.models import Customer, Ticket
from sales.models import Opportunity
from tests.conftest import login
from tests.factories import make_member
from tests.trail import Trail


def seen_on(page: str) -> str:
    match = re.search(r'name="seen" value="([^"]*)"', page)
    assert match, "the list page carries the versions it shows"
    return match.group(1)


def test_a_list_page_carries_the_version_of_every_row_it_shows(records, admin_user):
    first, second = records.customer(name="First"), records.customer(name="Second")
    page = login(admin_user).get(reverse("customers:list")).content.decode()
    assert set(seen_on(page).split(",")) == {f"{first.pk}@1", f"{second.pk}@1"}


def test_carrying_the_versions_costs_the_list_no_query(records, admin_user):
    for n in range(3):
        records.customer(name=f"Customer {n}")
    client = login(admin_user)
    client.get(reverse("customers:list"))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("customers:list"))
    for n in range(3, 10):
        records.customer(name=f"Customer {n}")
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("customers:list"))
    assert len(many) == len(few)


def test_a_bulk_owner_change_leaves_customers_changed_since_alone_and_says_so(records, admin_user, tenant):
    customers = [records.customer(name=f"Customer {n}") for n in range(4)]
    new_owner = make_member(tenant, "new-owner", role="rep")
    client = login(admin_user)
    seen = seen_on(client.get(reverse("customers:list")).content.decode())
    changed = customers[0]
    with activate(tenant):
        Customer.objects.filter(pk=changed.pk).update(notes="touched", version=2)  # another person's save

    response = client.post(
        reverse("customers:bulk"),
        {"action": "assign_owner", "owner": new_owner.pk, "ids": [c.pk for c in customers], "seen": seen},
        follow=True,
    )

    page = response.content.decode()
    assert "Assigned 3 customers to new-owner." in page
    assert "1 selected record changed since you loaded the page and was left alone." in page
    with activate(tenant):
        moved = set(Customer.objects.filter(owner=new_owner).values_list("pk", flat=True))
        versions = dict(Customer.objects.values_list("pk", "version"))
    assert moved == {c.pk for c in customers[1:]}
    assert versions == {changed.pk: 2, **{c.pk: 2 for c in customers[1:]}}


def test_a_bulk_delete_moves_only_the_rows_still_as_seen(records, admin_user, tenant):
    tickets = [records.ticket(subject=f"Ticket {n}") for n in range(3)]
    client = login(admin_user)
    seen = seen_on(client.get(reverse("tickets:list")).content.decode())
    changed = tickets[1]
    with activate(tenant):
        Ticket.objects.filter(pk=changed.pk).update(subject="Edited meanwhile", version=2)

    response = client.post(
        reverse("bin:delete", args=["ticket"]),
        {"ids": ",".join(str(t.pk) for t in tickets), "seen": seen, "confirm": "1"},
        follow=True,
    )

    page = response.content.decode()
    assert "Moved to the recycle bin: 2 tickets." in page
    assert "1 selected record changed since you loaded the page and was left alone." in page
    with activate(tenant):
        assert list(Ticket.objects.values_list("pk", flat=True)) == [changed.pk]


def test_the_delete_confirmation_carries_the_versions_on(records, admin_user):
    ticket = records.ticket()
    page = (
        login(admin_user)
        .post(reverse("bin:delete", args=["ticket"]), {"ids": ticket.pk, "seen": f"{ticket.pk}@1,999@4"})
        .content.decode()
    )
    assert re.search(rf'name="seen" value="{ticket.pk}@1"', page)


def test_versions_that_are_not_versions_are_a_clear_refusal(records, admin_user):
    ticket = records.ticket()
    response = login(admin_user).post(
        reverse("bin:delete", args=["ticket"]), {"ids": ticket.pk, "seen": "1@x", "confirm": "1"}
    )
    assert response.status_code == 400
    assert "versions that are not versions" in response.content.decode()


def test_a_card_dragged_after_the_deal_changed_is_not_moved(records, admin_user, tenant):
    opportunity = records.opportunity(name="Fleet", stage="lead")
    client = login(admin_user)
    board = client.get(reverse("sales:board")).content.decode()
    assert f'data-id="{opportunity.pk}"' in board and 'data-version="1"' in board
    client.post(reverse("sales:move", args=[opportunity.pk]), {"stage": "qualified", "version": 1})

    response = client.post(
        reverse("sales:move", args=[opportunity.pk]),
        {"stage": "won", "version": 1, "next": reverse("sales:board")},
        follow=True,
    )

    assert "“Fleet” changed since you loaded the page and was not moved" in response.content.decode()
    stored = Opportunity.all_objects.get(pk=opportunity.pk)
    assert (stored.stage, stored.version) == ("qualified", 2)


def test_a_card_moved_at_the_version_it_showed_moves(records, admin_user):
    opportunity = records.opportunity(stage="lead")
    response = login(admin_user).post(reverse("sales:move", args=[opportunity.pk]), {"stage": "proposal", "version": 1})
    assert response.status_code == 302
    assert Opportunity.all_objects.get(pk=opportunity.pk).version == 2


def test_revert_restore_and_bulk_edits_bump_the_version(records, admin_user, tenant):
    customer = records.customer(name="Before")
    with activate(tenant):
        from customers import actions

        actions.update_customer(customer, name="After", acting_user=None)
        assert Customer.objects.get(pk=customer.pk).version == 2
        first = customer.history.filter(tenant_id=tenant.pk).order_by("history_id").first()
        revert(Customer.objects.get(pk=customer.pk), first, acting_user=None)
        reverted = Customer.objects.get(pk=customer.pk)
        assert (reverted.name, reverted.version) == ("Before", 3)

        batch = recyclebin.delete(Customer.objects.filter(pk=customer.pk), acting_user=None)
        recyclebin.restore_batch(batch.id, acting_user=None)
        assert Customer.objects.get(pk=customer.pk).version == 5

        actions.bulk_add_tag(Customer.objects.filter(pk=customer.pk), "vip", acting_user=None)
        assert Customer.objects.get(pk=customer.pk).version == 6
        history = list(
            customer.history.filter(tenant_id=tenant.pk).order_by("history_id").values_list("version", flat=True)
        )
    assert history == [1, 2, 3, 4, 5, 6]


def test_a_bulk_stage_move_moves_only_the_deals_still_as_seen(records, admin_user, tenant):
    deals = [records.opportunity(name=f"Deal {n}", stage="lead") for n in range(3)]
    client = login(admin_user)
    page = client.get(reverse("sales:list")).content.decode()
    assert 'data-testid="bulk-move"' in page
    changed = deals[2]
    client.post(reverse("sales:move", args=[changed.pk]), {"stage": "qualified"})  # someone else, meanwhile

    with Trail(tenant) as trail:
        response = client.post(
            reverse("sales:bulk_move"),
            {"ids": [d.pk for d in deals], "stage": "won", "seen": seen_on(page)},
            follow=True,
        )

    text = response.content.decode()
    assert "2 opportunities moved to Won." in text
    assert "1 selected record changed since you loaded the page and was left alone." in text
    stored = {o.pk: o for o in Opportunity.all_objects.filter(pk__in=[d.pk for d in deals])}
    assert [(stored[d.pk].stage, stored[d.pk].probability, stored[d.pk].version) for d in deals] == [
        ("won", 100, 2),
        ("won", 100, 2),
        ("qualified", 25, 2),
    ]
    assert stored[deals[0].pk].closed_at is not None
    assert trail.events == [("update", "opportunity", "")]
    assert sorted(row[1] for row in trail.versions) == sorted(d.pk for d in deals[:2])
