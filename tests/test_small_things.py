"""Issue #21's small things: labels a person can tell apart, one date format, searches that find."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import formats, timezone

from audit.models import SystemEvent
from crm.records.management.commands.seed_demo import DEMO_PASSWORD
from crm.recyclebin import actions as recyclebin
from crm.tenancy.actions import make_staff
from crm.tenancy.context import activate
from customers.actions import update_customer
from customers.models import Customer
from customers.search import tagged
from tests.api.conftest import token_client
from tests.conftest import login
from tests.customers.test_customer_pages import names_in
from tests.factories import make_member


def soft_delete(tenant, user, record):
    with activate(tenant, user=user):
        return recyclebin.delete(type(record).objects.filter(pk=record.pk), acting_user=user)


@pytest.fixture
def deleted_family(tenant, records, admin_user):
    """A customer deleted with two contacts: one deletion of three items."""
    customer = records.customer(name="Family Co")
    records.contact(customer)
    records.contact(customer)
    soft_delete(tenant, admin_user, customer)
    return customer


# -- the recycle bin -----------------------------------------------------------------------------


def test_a_bin_item_says_when_it_will_be_purged(deleted_family, admin_user):
    page = login(admin_user).get(reverse("bin:item", args=["customer", deleted_family.pk])).content.decode()
    purge_on = timezone.localtime(deleted_family.__class__.all_objects.get(pk=deleted_family.pk).deleted_at)
    date = formats.date_format(purge_on + timedelta(days=30), "DATE_FORMAT")
    assert f"Will be purged on {date}" in page
    assert ">Purged<" not in page


def test_an_item_past_its_retention_is_purged_at_the_next_clean_up(deleted_family, admin_user):
    type(deleted_family).all_objects.filter(pk=deleted_family.pk).update(deleted_at=timezone.now() - timedelta(days=31))
    page = login(admin_user).get(reverse("bin:item", args=["customer", deleted_family.pk])).content.decode()
    assert "Will be purged at the next clean-up" in page


def test_restoring_one_item_and_the_whole_deletion_read_differently(deleted_family, admin_user):
    client = login(admin_user)
    for url in (reverse("bin:list"), reverse("bin:item", args=["customer", deleted_family.pk])):
        page = client.get(url).content.decode()
        assert "Restore this item</a>" in page
        assert "Restore the whole deletion (3 items)</a>" in page
        assert ">Restore</a>" not in page and "Restore deletion<" not in page
    assert '<th scope="col">Deleted permanently in</th>' in client.get(reverse("bin:list")).content.decode()


# -- history ------------------------------------------------------------------------------------


def test_the_revert_message_has_one_full_stop_even_after_pm(records, tenant, admin_user):
    customer = records.customer(name="Old name")
    first = customer.history.get()
    # English short times end in "a.m."/"p.m.": the sentence must not put its full stop right after one.
    afternoon = timezone.localtime().replace(hour=15, minute=30) - timedelta(days=1)
    type(first).objects.filter(pk=first.pk).update(history_date=afternoon)
    with activate(tenant, user=admin_user):
        update_customer(customer, name="New name", acting_user=admin_user)
    client = login(admin_user)
    response = client.post(f"/history/customer/{customer.pk}/{first.history_id}/revert/", follow=True)
    messages = [str(message) for message in response.context["messages"]]
    assert len(messages) == 1 and "was reverted to the version of" in messages[0], messages
    assert "p.m." in messages[0] and ".." not in messages[0]


@pytest.mark.parametrize(("role", "sees_origin"), [("admin", True), ("manager", False), ("viewer", False)])
def test_request_ids_and_ip_addresses_show_in_the_history_only_to_admins(records, tenant, role, sees_origin):
    customer = records.customer(name="Traced")
    with activate(tenant, user=records.actor, request_id="req-77", ip="198.51.100.4"):
        update_customer(customer, name="Traced twice", acting_user=records.actor)
    page = login(make_member(tenant, role=role)).get(f"/history/customer/{customer.pk}/").content.decode()
    assert ('data-testid="history-who"' in page) and records.actor.username in page
    assert ("req-77" in page, "198.51.100.4" in page) == (sees_origin, sees_origin)


# -- searching ----------------------------------------------------------------------------------


@pytest.fixture
def phones(records):
    customer = records.customer(name="Seattle Co", phone="+1 206 555 0100")
    records.customer(name="London Ltd", phone="+44 20 7946 0000")
    records.customer(name="Room 2065", phone="")
    records.contact(customer, name="Ada", phone="(206) 555-0100")
    return customer


@pytest.mark.parametrize("typed", ["2065550100", "206-555-0100", "(206) 555 0100", "+12065550100"])
def test_a_phone_is_found_by_its_digits_however_it_was_typed(phones, admin_user, typed):
    client = login(admin_user)
    assert names_in(client.get(reverse("customers:list"), {"q": typed})) == ["Seattle Co"]
    contacts = client.get(reverse("customers:contact_list"), {"q": typed.removeprefix("+1")}).content.decode()
    assert ">Ada<" in contacts


def test_words_are_not_matched_against_phone_digits(phones, admin_user):
    # "Room 2065" has letters: it is a name search, and "2065" in a phone number does not count.
    assert names_in(login(admin_user).get(reverse("customers:list"), {"q": "Room 2065"})) == ["Room 2065"]


def test_the_api_search_finds_phones_by_digits_too(phones, tenant, admin_user):
    response = token_client(tenant, admin_user).get("/api/v1/customers/", {"search": "2065550100"})
    assert [row["name"] for row in response.json()["results"]] == ["Seattle Co"]


def test_the_tag_filter_ignores_case(records, tenant, admin_user):
    records.customer(name="Tagged", tags=["VIP", "cn"])
    records.customer(name="Untagged", tags=["vipx"])
    assert names_in(login(admin_user).get(reverse("customers:list"), {"tag": "vip"})) == ["Tagged"]
    response = token_client(tenant, admin_user).get("/api/v1/customers/", {"tag": "Cn"})
    assert [row["name"] for row in response.json()["results"]] == ["Tagged"]


@pytest.mark.parametrize(
    ("search", "index", "expression"),
    [
        (
            lambda: Customer.objects.filter(phone__digits="206 555"),
            "customer_phone_digits_trgm",
            "regexp_replace((phone)::text, '[^0-9]'::text, ''::text, 'g'::text)",
        ),
        (
            lambda: tagged(Customer.objects.all(), "VIP"),
            "customer_tenant_tags_ci",
            "customers_lower_tags((tags)::text[])",
        ),
    ],
)
def test_phone_and_tag_searches_compare_what_a_tenant_first_index_holds(in_tenant, search, index, expression):
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_indexdef(%s::regclass)", [index])
        (definition,) = cursor.fetchone()
    assert "USING gin (tenant_id, " in definition and "WHERE (deleted_at IS NULL)" in definition
    assert expression in definition and expression in search().explain()


# -- the API's validation errors ---------------------------------------------------------------


@pytest.mark.parametrize("method", ["post", "patch"])
def test_a_duplicate_email_is_reported_under_fields_email(records, tenant, admin_user, method):
    records.customer(name="First", email="taken@example.com")
    other = records.customer(name="Second", email="free@example.com")
    api = token_client(tenant, admin_user)
    url = "/api/v1/customers/" if method == "post" else f"/api/v1/customers/{other.pk}/"
    response = getattr(api, method)(url, {"name": "Dup", "email": "TAKEN@example.com"}, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["fields"] == {"email": ["Another customer already uses this email address."]}


# -- preferences --------------------------------------------------------------------------------


def test_the_time_zone_is_typed_with_suggestions_not_picked_from_600_options(admin_user):
    page = login(admin_user).get(reverse("tenancy:preferences")).content.decode()
    box = re.search(r'<input[^>]*name="time_zone"[^>]*>', page).group(0)
    assert 'list="id_time_zone-choices"' in box and 'value="UTC"' in box
    assert '<datalist id="id_time_zone-choices">' in page and '<option value="Asia/Shanghai">' in page
    assert "<script>" not in page  # nothing inline: the datalist needs no script


def test_a_typed_time_zone_is_saved_and_a_wrong_one_explained(admin_user):
    client = login(admin_user)
    wrong = client.post(reverse("tenancy:preferences"), {"language": "en", "time_zone": "Shanghai"})
    assert wrong.status_code == 200
    assert "“Shanghai” is not a time zone: pick one from the list, e.g. Asia/Shanghai." in wrong.content.decode()
    saved = client.post(reverse("tenancy:preferences"), {"language": "en", "time_zone": "Asia/Shanghai"})
    assert saved.status_code == 302
    admin_user.preference.refresh_from_db()
    assert admin_user.preference.time_zone == "Asia/Shanghai"


# -- opening a POST-only address -----------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/accounts/switch/",
        "/accounts/language/",
        "/customers/bulk/",
        "/recycle-bin/undo/00000000-0000-0000-0000-000000000000/",
        "/backups/now/",
    ],
)
def test_opening_a_post_only_address_shows_a_page_that_says_so(admin_user, path):
    client = login(admin_user)
    response = client.get(path, HTTP_REFERER="http://testserver/customers/")
    assert response.status_code == 405 and "POST" in response["Allow"]
    page = response.content.decode()
    assert "it cannot be opened as a page. Nothing was changed." in page
    assert 'href="http://testserver/customers/" data-testid="go-back"' in page


def test_a_referer_from_another_site_is_not_offered_as_the_way_back(admin_user):
    response = login(admin_user).get("/customers/bulk/", HTTP_REFERER="https://evil.example/")
    assert response.status_code == 405 and "evil.example" not in response.content.decode()


def test_the_api_keeps_its_json_405(tenant, admin_user):
    response = token_client(tenant, admin_user).get("/api/v1/recycle-bin/restore/")
    assert response.status_code == 405 and response.json()["error"]["code"]


# -- one date format per kind on a page ---------------------------------------------------------


def short(moment) -> str:
    return formats.date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")


def test_the_customer_page_shows_every_moment_in_one_format(records, admin_user):
    customer = records.customer(name="Dated Co")
    ticket = records.ticket(customer, due_at=timezone.now() + timedelta(days=2))
    interaction = records.interaction(customer, occurred_at=timezone.now() - timedelta(days=5))
    page = login(admin_user).get(customer.get_absolute_url()).content.decode()
    for moment in (ticket.due_at, interaction.occurred_at):
        assert short(moment) in page
    for testid, moment in (("customer-created", customer.created_at), ("customer-updated", customer.updated_at)):
        shown = re.search(rf'data-testid="{testid}"><time [^>]*>([^<]+)</time>', page).group(1)
        assert shown == short(moment)
    assert " ago" not in page and "from now" not in page


def test_the_dashboard_shows_every_moment_in_one_format(records, admin_user):
    customer = records.customer()
    overdue = records.ticket(customer, due_at=timezone.now() - timedelta(hours=3), assignee=admin_user)
    interaction = records.interaction(customer, occurred_at=timezone.now() - timedelta(days=5))
    page = login(admin_user).get(reverse("dashboard")).content.decode()
    assert page.count(short(overdue.due_at)) == 2  # in "my open tickets" and in "overdue"
    assert short(interaction.occurred_at) in page
    assert " ago" not in page and "from now" not in page


# -- the demo ----------------------------------------------------------------------------------


def test_the_demo_company_has_a_staff_user_who_may_back_up_the_whole_database(db, capsys):
    call_command("seed_demo")
    call_command("seed_demo")  # still idempotent
    ops = get_user_model().objects.get(username="ops")
    assert ops.is_staff and not ops.is_superuser and ops.check_password(DEMO_PASSWORD)
    assert ops.memberships.get().tenant.slug == "acme"
    assert SystemEvent.objects.filter(action="permission_grant", object_id=str(ops.pk)).count() == 1
    client = Client()
    assert client.login(username="ops", password=DEMO_PASSWORD)
    page = client.get(reverse("backups:list")).content.decode()
    assert reverse("backups:backup_now") in page
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    assert "| `ops`" in readme and "staff" in readme.split("| `ops`")[1].splitlines()[0]


def test_only_staff_or_the_system_make_someone_staff(tenant, admin_user):
    other = make_member(tenant, role="manager")
    with pytest.raises(PermissionDenied):
        make_staff(other, acting_user=admin_user)
    other.refresh_from_db()
    assert not other.is_staff
