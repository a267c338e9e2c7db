"""Merging customers and contacts, and Undo merge: children move to the survivor and back, the
merged records go to the recycle bin as one batch and come back, history and audit record both."""

import pytest
from django.urls import reverse

from activities.models import Task
from attachments.models import Attachment
from customers.merges import Merge
from customers.models import Contact, Customer, CustomerShare, Interaction, Ticket
from sales.models import Opportunity
from tests.conftest import login
from tests.factories import RecordMaker, make_member
from tests.trail import Trail

MERGE = reverse("customers:merge")
pytestmark = pytest.mark.usefixtures("in_tenant")  # the test body reads the company's records


@pytest.fixture
def family(tenant, records):
    """A survivor and two duplicates, each duplicate with one of every kind of child."""
    survivor = records.customer(name="Acme Trading", email="sales@acme.example", phone="")
    dupes = [
        records.customer(name="ACME Trading Co", email="info@acme.example", phone="021 5555 0100"),
        records.customer(name="Acme trading", email="", phone="5555-0100"),
    ]
    children = {}
    for dupe in dupes:
        contact = records.contact(dupe, name=f"Person of {dupe.pk}")
        children[dupe.pk] = {
            "contact": contact,
            "interaction": records.interaction(dupe, contact=contact),
            "ticket": records.ticket(dupe),
            "opportunity": records.opportunity(dupe),
            "task": records.task(customer=dupe),
            "attachment": records.attachment(dupe),
        }
    sharer = make_member(tenant, "sam", role="rep")
    records._run(__import__("customers.actions").actions.share_customer, dupes[0], sharer)
    return survivor, dupes, children, sharer


def parents(children):
    return {
        name: type(record).all_objects.get(pk=record.pk).customer_id
        for pk, kinds in children.items()
        for name, record in kinds.items()
    }


def test_merge_in_the_browser_moves_children_bins_the_others_as_one_batch_and_keeps_chosen_values(
    tenant, admin_user, family
):
    survivor, dupes, children, sharer = family
    client = login(admin_user)
    ids = ",".join(str(pk) for pk in (survivor.pk, dupes[0].pk, dupes[1].pk))
    page = client.get(MERGE, {"ids": ids})
    assert page.status_code == 200 and "merge-field-email" in page.content.decode()
    with Trail(tenant) as trail:
        response = client.post(
            MERGE,
            {
                "ids": ids,
                "confirm": "1",
                "survivor": survivor.pk,
                "field_phone": dupes[0].pk,
                "field_tier": dupes[1].pk,
            },
        )
    merge = Merge.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("customers:merge_result", args=[merge.pk])
    survivor.refresh_from_db()
    assert (survivor.name, survivor.email, survivor.phone) == ("Acme Trading", "sales@acme.example", "021 5555 0100")
    assert set(parents(children).values()) == {survivor.pk}
    binned = Customer.deleted.filter(pk__in=[dupe.pk for dupe in dupes])
    assert binned.count() == 2 and len({row.deletion_batch for row in binned}) == 1
    assert binned.first().deletion_batch == merge.batch
    assert CustomerShare.objects.filter(customer=survivor, user=sharer).exists()
    assert [event[:2] for event in trail.events] == [("merged", "customer")]
    assert trail.event_objects[0].detail["merged_ids"] == sorted(dupe.pk for dupe in dupes)
    reasons = {(name, reason) for name, _pk, _type, reason in trail.versions}
    assert {("customer", "merged"), ("contact", "merged"), ("interaction", "merged"), ("task", "merged")} <= reasons
    assert ("customer", "deleted") in reasons
    result = client.get(response["Location"]).content.decode()
    assert "Undo merge" in result and "ACME Trading Co" in result


def test_undo_merge_puts_everything_back_exactly(tenant, admin_user, records, family):
    survivor, dupes, children, sharer = family
    before = parents(children)
    versions = {dupe.pk: Customer.objects.get(pk=dupe.pk).version for dupe in dupes}
    merge = records._run(
        __import__("customers.actions").actions.merge_records,
        survivor,
        dupes,
        choices={"email": dupes[0].pk, "name": dupes[1].pk},
    )
    assert Customer.objects.get(pk=survivor.pk).email == "info@acme.example"
    assert "sales@acme.example" not in str(merge.before)  # the ledger names fields, the history holds values
    client = login(admin_user)
    with Trail(tenant) as trail:
        response = client.post(reverse("customers:merge_undo", args=[merge.pk]))
    assert response.status_code == 302
    assert parents(children) == before
    survivor.refresh_from_db()
    assert (survivor.name, survivor.email, survivor.phone) == ("Acme Trading", "sales@acme.example", "")
    assert set(Customer.objects.filter(pk__in=versions).values_list("pk", flat=True)) == set(versions)
    assert not CustomerShare.objects.filter(customer=survivor).exists()
    assert CustomerShare.objects.filter(customer=dupes[0], user=sharer).exists()
    assert [event[:2] for event in trail.events][-1] == ("merge_undone", "customer")
    assert ("customer", survivor.pk, "~", "merge undone") in trail.versions
    merge.refresh_from_db()
    assert merge.undone_at is not None
    again = client.post(reverse("customers:merge_undo", args=[merge.pk]), follow=True).content.decode()
    assert "already undone" in again or "was undone" in again


def test_undo_is_refused_with_a_list_when_something_changed_since(tenant, admin_user, records, family):
    survivor, dupes, children, _sharer = family
    actions = __import__("customers.actions").actions
    merge = records._run(actions.merge_records, survivor, dupes)
    moved_away = records.customer(name="Elsewhere")
    contact = Contact.objects.get(pk=children[dupes[0].pk]["contact"].pk)
    records._run(actions.update_contact, contact, customer=moved_away)
    records._run(actions.update_customer, Customer.objects.get(pk=survivor.pk), notes="Edited after the merge")
    client = login(admin_user)
    page = client.post(reverse("customers:merge_undo", args=[merge.pk]), follow=True).content.decode()
    assert "The merge was not undone." in page
    assert f"“{contact.name}” was moved or deleted after the merge." in page
    assert "“Acme Trading” was changed after the merge." in page
    assert Customer.deleted.filter(pk__in=[dupe.pk for dupe in dupes]).count() == 2
    assert Merge.objects.get().undone_at is None


def test_contacts_merge_moves_their_interactions_tasks_and_files(tenant, admin_user, records):
    customer = records.customer()
    keep, dupe = records.contact(customer, name="Pat Lee"), records.contact(customer, name="Pat  Lee")
    interaction = records.interaction(customer, contact=dupe)
    task = records.task(contact=dupe)
    client = login(admin_user)
    response = client.post(
        reverse("customers:contact_merge"), {"ids": f"{keep.pk},{dupe.pk}", "confirm": "1", "survivor": keep.pk}
    )
    assert response.status_code == 302
    assert Interaction.objects.get(pk=interaction.pk).contact_id == keep.pk
    assert Task.objects.get(pk=task.pk).contact_id == keep.pk
    assert Contact.deleted.filter(pk=dupe.pk).exists()
    merge = Merge.objects.get()
    client.post(reverse("customers:merge_undo", args=[merge.pk]))
    assert Interaction.objects.get(pk=interaction.pk).contact_id == dupe.pk
    assert Task.objects.get(pk=task.pk).contact_id == dupe.pk
    assert Contact.objects.filter(pk=dupe.pk).exists()


def test_contacts_of_different_customers_are_not_merged(tenant, admin_user, records):
    one, two = records.contact(name="A"), records.contact(name="B")
    page = login(admin_user).post(
        reverse("customers:contact_merge"), {"ids": f"{one.pk},{two.pk}", "confirm": "1"}, follow=True
    )
    assert "Only contacts of the same customer can be merged." in page.content.decode()
    assert not Merge.objects.exists()


def test_a_rep_cannot_open_the_merge_page_with_a_customer_they_cannot_see(tenant, records):
    rep = make_member(tenant, "rita", role="rep")
    mine = RecordMaker(tenant, rep).customer(name="Mine")
    theirs = records.customer(name="Theirs")
    assert login(rep).get(MERGE, {"ids": f"{mine.pk},{theirs.pk}"}).status_code == 404


def test_the_merge_page_of_one_customer_offers_its_likely_duplicates(tenant, admin_user, records):
    customer = records.customer(name="Orbit Ltd", phone="+1 206 555 0100")
    twin = records.customer(name="Orbit Limited", phone="12065550100")
    page = login(admin_user).get(MERGE, {"ids": customer.pk}).content.decode()
    assert f'value="{twin.pk}"' in page and "Orbit Limited" in page


def test_the_duplicates_page_groups_same_email_phone_and_similar_names(tenant, admin_user, records):
    a = records.customer(name="Globex Corporation", phone="400 800 9000")
    b = records.customer(name="Globex Corporatoin", phone="")
    c = records.customer(name="Initech", phone="4008009000")
    lone = records.customer(name="Umbrella")
    response = login(admin_user).get(reverse("customers:duplicates"))
    groups = response.context["groups"]
    assert [sorted(group["ids"]) for group in groups] == [sorted([a.pk, b.pk, c.pk])]
    assert lone.pk not in groups[0]["ids"]


def test_a_rep_sees_groups_among_their_own_customers_only(tenant, records):
    rep = make_member(tenant, "rosa", role="rep")
    mine = RecordMaker(tenant, rep).customer(name="Stark Industries")
    records.customer(name="Stark Industries Ltd")
    response = login(rep).get(reverse("customers:duplicates"))
    assert response.context["groups"] == [] and mine.name not in str(response.context["groups"])


def test_related_records_of_every_kind_are_counted_on_the_result(family, tenant, records):
    survivor, dupes, _children, _sharer = family
    merge = records._run(__import__("customers.actions").actions.merge_records, survivor, dupes)
    kinds = {move["model"] for move in merge.moves}
    assert {model._meta.label_lower for model in (Contact, Interaction, Ticket, Opportunity, Task, Attachment)} <= kinds
    assert merge.moved_count == 12


def test_a_rep_undoes_only_the_merges_they_made(tenant, records):
    first, second = make_member(tenant, "rob", role="rep"), make_member(tenant, "ruth", role="rep")
    maker = RecordMaker(tenant, first)
    survivor, dupe = maker.customer(name="Shared Co"), maker.customer(name="Shared Co.")
    actions = __import__("customers.actions").actions
    maker._run(actions.share_customer, survivor, second)
    merge = maker._run(actions.merge_records, survivor, [dupe])
    assert login(second).post(reverse("customers:merge_undo", args=[merge.pk])).status_code == 403
    assert login(first).post(reverse("customers:merge_undo", args=[merge.pk])).status_code == 302
    assert Customer.objects.filter(pk=dupe.pk).exists()


def test_the_duplicates_page_runs_the_same_queries_whatever_the_number_of_groups(tenant, admin_user, records):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = login(admin_user)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("customers:duplicates")).status_code == 200
        return len(captured)

    records.customer(name="Wayne Enterprises", phone="555 0001")
    records.customer(name="Wayne Enterprise", phone="")
    queries()  # the session's first page reads and writes more than any later one
    few = queries()
    for n in range(5):
        records.customer(name=f"Tyrell {n}", phone=f"555 10{n}0")
        records.customer(name=f"Cyberdyne {n}", phone=f"555 10{n}0")
    assert queries() == few
