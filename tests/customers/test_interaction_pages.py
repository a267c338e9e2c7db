"""Interaction list, detail and forms, and logging an interaction on the customer page."""

import itertools
from datetime import datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from customers.models import Interaction
from tests.conftest import login
from tests.contracts import RecordPagesContract
from tests.factories import make_member

_n = itertools.count(1)
HTMX = {"HX-Request": "true"}


class TestInteractionPages(RecordPagesContract):
    record_type = "interaction"
    list_url = "customers:interaction_list"
    detail_url = "customers:interaction_detail"
    create_url = "customers:interaction_create"
    edit_url = "customers:interaction_edit"
    text_field = "summary"
    # An interaction has one free-text field; the date/time is the other thing typed by hand.
    kept_field = "occurred_at"
    # The create page belongs to a customer (the admin's, below): a rep may log
    # interactions only on their own and shared customers (tested separately).
    roles_that_add = ("admin", "manager")
    create_refusals = {"rep": 404}  # the admin's customer is not visible to a rep

    def create_url_args(self, records):
        return [records.customer().pk]

    def valid_data(self, records):
        return {
            "customer": records.customer().pk,  # used when editing; the URL decides when creating
            "kind": "meeting",
            "occurred_at": "2026-01-15T10:30",
            "summary": f"Quarterly review number {next(_n)}",
        }


@pytest.fixture
def rep(tenant):
    return make_member(tenant, "rep-one", role="rep")


def log_url(customer):
    return reverse("customers:interaction_create", args=[customer.pk])


# -- logging on the customer page ---------------------------------------------------------------------------


def test_log_interaction_with_htmx_returns_the_updated_timeline(records, admin_user):
    customer = records.customer()
    contact = records.contact(customer, name="Wile Coyote")
    records.interaction(customer, summary="An older call.", occurred_at=timezone.now() - timedelta(days=3))
    response = login(admin_user).post(
        log_url(customer), {"kind": "call", "contact": contact.pk, "summary": "Ordered more rockets."}, headers=HTMX
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="timeline"')
    assert "<html" not in html
    assert html.index("Ordered more rockets.") < html.index("An older call.")  # newest first
    assert 'hx-swap-oob="true"' in html and "Logged: Call: Ordered more rockets." in html
    interaction = Interaction.all_objects.get(summary="Ordered more rockets.")
    assert interaction.author == admin_user and interaction.contact == contact and interaction.customer == customer
    assert abs(interaction.occurred_at - timezone.now()) < timedelta(minutes=1)  # empty means now


def test_log_interaction_with_htmx_and_bad_input_returns_the_form_with_errors(records, admin_user):
    customer = records.customer()
    response = login(admin_user).post(
        log_url(customer), {"kind": "call", "summary": "", "occurred_at": "yesterday-ish"}, headers=HTMX
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="timeline"')
    assert "This field is required." in html and "is-invalid" in html
    assert 'value="yesterday-ish"' in html
    assert not Interaction.all_objects.filter(customer=customer).exists()


def test_log_interaction_without_javascript_redirects_to_the_timeline(records, admin_user):
    customer = records.customer()
    client = login(admin_user)
    response = client.post(
        log_url(customer), {"kind": "note", "occurred_at": "2026-02-01T09:15", "summary": "Plain post note."}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("customers:detail", args=[customer.pk]) + "#timeline"
    page = client.get(response["Location"]).content.decode()
    assert "Plain post note." in page
    interaction = Interaction.all_objects.get(summary="Plain post note.")
    assert interaction.occurred_at == timezone.make_aware(datetime(2026, 2, 1, 9, 15))


def test_the_customer_page_has_a_log_form_that_works_both_ways(records, admin_user):
    customer = records.customer()
    page = login(admin_user).get(reverse("customers:detail", args=[customer.pk])).content.decode()
    url = log_url(customer)
    assert f'action="{url}" hx-post="{url}" hx-target="#timeline"' in page
    assert 'data-testid="log-interaction-form"' in page


def test_the_contact_must_belong_to_the_customer(records, admin_user):
    customer = records.customer()
    stranger = records.contact(records.customer(), name="Stranger")
    response = login(admin_user).post(log_url(customer), {"kind": "call", "contact": stranger.pk, "summary": "Hm."})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not Interaction.all_objects.filter(summary="Hm.").exists()


def test_the_log_form_preselects_a_contact_from_the_query(records, admin_user):
    customer = records.customer()
    contact = records.contact(customer)
    page = login(admin_user).get(log_url(customer), {"contact": contact.pk}).content.decode()
    assert f'<option value="{contact.pk}" selected>' in page


def test_a_rep_logs_on_own_customers_only(records, rep):
    own = records.customer(owner=rep)
    theirs = records.customer()
    client = login(rep)
    assert client.post(log_url(own), {"kind": "call", "summary": "Mine."}, headers=HTMX).status_code == 200
    assert client.post(log_url(theirs), {"kind": "call", "summary": "Sneaky."}, headers=HTMX).status_code == 404
    assert Interaction.all_objects.filter(summary="Mine.", author=rep).exists()
    assert not Interaction.all_objects.filter(summary="Sneaky.").exists()


@pytest.mark.parametrize("role", ["support", "viewer"])
def test_read_only_roles_cannot_log(role, records, member_client):
    customer = records.customer()
    client = member_client(role)
    assert client.post(log_url(customer), {"kind": "call", "summary": "Nope."}).status_code == 403
    assert client.post(log_url(customer), {"kind": "call", "summary": "Nope."}, headers=HTMX).status_code == 403
    assert not Interaction.all_objects.filter(summary="Nope.").exists()


# -- editing ----------------------------------------------------------------------------------------------------


def test_editing_keeps_the_author_and_offers_only_changeable_customers(records, rep):
    own = records.customer(name="Own customer", owner=rep)
    other = records.customer(name="Someone else's customer")
    author = make_member(records.tenant, "original-author", role="manager")
    interaction = records.interaction(own, author=author, summary="Before")
    client = login(rep)
    url = reverse("customers:interaction_edit", args=[interaction.pk])
    page = client.get(url).content.decode()
    assert "Own customer" in page and "Someone else&#x27;s customer" not in page
    data = {"customer": own.pk, "kind": "email", "occurred_at": "2026-03-01T08:00", "summary": "After"}
    assert client.post(url, {**data, "customer": other.pk}).status_code == 200
    response = client.post(url, data)
    assert response["Location"] == reverse("customers:interaction_detail", args=[interaction.pk])
    interaction.refresh_from_db()
    assert (interaction.summary, interaction.kind, interaction.author) == ("After", "email", author)


def test_editing_requires_a_time(records, admin_user):
    interaction = records.interaction()
    data = {"customer": interaction.customer_id, "kind": "call", "occurred_at": "", "summary": "x"}
    response = login(admin_user).post(reverse("customers:interaction_edit", args=[interaction.pk]), data)
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()


def test_a_rep_cannot_see_or_edit_another_reps_interaction(records, rep):
    interaction = records.interaction(summary="Private")
    client = login(rep)
    assert client.get(reverse("customers:interaction_detail", args=[interaction.pk])).status_code == 404
    data = {"customer": interaction.customer_id, "kind": "call", "occurred_at": "2026-01-01T00:00", "summary": "X"}
    assert client.post(reverse("customers:interaction_edit", args=[interaction.pk]), data).status_code == 404
    interaction.refresh_from_db()
    assert interaction.summary == "Private"
    assert "Private" not in client.get(reverse("customers:interaction_list")).content.decode()


# -- list and detail ------------------------------------------------------------------------------------------


def test_the_list_is_newest_first_and_filters(records, admin_user, tenant):
    other_author = make_member(tenant, "writer", role="manager")
    acme, globex = records.customer(name="Acme"), records.customer(name="Globex")
    now = timezone.now()
    records.interaction(acme, kind="call", summary="Old call", occurred_at=now - timedelta(days=10))
    records.interaction(acme, kind="email", summary="New email", occurred_at=now - timedelta(hours=1))
    records.interaction(globex, kind="meeting", summary="Globex meeting", occurred_at=now - timedelta(days=2))
    records.interaction(
        globex, kind="note", summary="Writer note", occurred_at=now - timedelta(days=5), author=other_author
    )
    client = login(admin_user)
    url = reverse("customers:interaction_list")

    def summaries(**params):
        page = client.get(url, params).content.decode()
        found = [s for s in ("Old call", "New email", "Globex meeting", "Writer note") if s in page]
        return sorted(found, key=page.index)

    assert summaries() == ["New email", "Globex meeting", "Writer note", "Old call"]
    assert summaries(sort="occurred") == ["Old call", "Writer note", "Globex meeting", "New email"]
    assert summaries(kind="meeting") == ["Globex meeting"]
    assert summaries(customer=acme.pk) == ["New email", "Old call"]
    assert summaries(q="GLOBEX") == ["Globex meeting", "Writer note"]  # summary or customer name
    assert summaries(author=other_author.pk) == ["Writer note"]
    since = (now - timedelta(days=3)).date().isoformat()
    assert summaries(occurred_after=since) == ["New email", "Globex meeting"]
    assert summaries(occurred_before=since) == ["Writer note", "Old call"]


def test_the_detail_page_shows_everything(records, admin_user):
    customer = records.customer(name="Acme")
    contact = records.contact(customer, name="Wile Coyote")
    interaction = records.interaction(customer, contact=contact, kind="meeting", summary="Line one\nLine two")
    page = login(admin_user).get(reverse("customers:interaction_detail", args=[interaction.pk])).content.decode()
    for text in ("Acme", "Wile Coyote", "Meeting", "Line one<br>Line two", admin_user.username):
        assert text in page, text
    assert reverse("customers:interaction_edit", args=[interaction.pk]) in page


def test_a_viewer_reads_but_sees_no_edit_links(records, member_client):
    interaction = records.interaction()
    client = member_client("viewer")
    page = client.get(reverse("customers:interaction_detail", args=[interaction.pk])).content.decode()
    assert reverse("customers:interaction_edit", args=[interaction.pk]) not in page
    page = client.get(reverse("customers:interaction_list")).content.decode()
    assert reverse("customers:interaction_edit", args=[interaction.pk]) not in page


def test_moving_an_interaction_needs_a_contact_of_the_new_customer(records, admin_user):
    old, new = records.customer(), records.customer()
    contact = records.contact(old)
    interaction = records.interaction(old, contact=contact)
    url = reverse("customers:interaction_edit", args=[interaction.pk])
    data = {"customer": new.pk, "kind": "call", "occurred_at": "2026-01-01T10:00", "summary": "Moved"}
    client = login(admin_user)
    response = client.post(url, {**data, "contact": contact.pk})
    assert response.status_code == 200
    assert "This contact belongs to another customer." in response.content.decode()
    assert client.post(url, data).status_code == 302
    interaction.refresh_from_db()
    assert (interaction.customer, interaction.contact) == (new, None)


def test_an_interaction_keeps_a_contact_who_moved_to_another_customer(records, admin_user):
    from crm.tenancy.context import activate
    from customers.actions import update_contact

    old, new = records.customer(), records.customer()
    contact = records.contact(old, name="Job Hopper")
    interaction = records.interaction(old, contact=contact)
    with activate(records.tenant):
        update_contact(contact, customer=new, acting_user=None)
    url = reverse("customers:interaction_edit", args=[interaction.pk])
    data = {
        "customer": old.pk,
        "contact": contact.pk,
        "kind": "call",
        "occurred_at": "2026-01-01T10:00",
        "summary": "S",
    }
    client = login(admin_user)
    assert "Job Hopper" in client.get(url).content.decode()
    assert client.post(url, data).status_code == 302
    interaction.refresh_from_db()
    assert interaction.contact == contact
