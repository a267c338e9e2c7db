"""The History page of a record (and its htmx partial) and reverting to an earlier version."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.utils import formats, timezone, translation

from audit.models import AuditEvent
from crm.recyclebin import actions as recyclebin
from crm.tenancy.context import activate
from customers import actions as customer_actions
from customers.models import Customer
from tests.conftest import login
from tests.factories import RecordMaker, make_member

pytestmark = pytest.mark.django_db


def url(record, record_type="customer"):
    return f"/history/{record_type}/{record.pk}/"


def revert_url(record, version, record_type="customer"):
    return f"/history/{record_type}/{record.pk}/{version.history_id}/revert/"


def changes_of(row) -> dict:
    return {change["field"]: (change["old"], change["new"]) for change in row["changes"]}


def as_admin(tenant, user, function, *args, **values):
    with activate(tenant, user=user, process="tests"):
        return function(*args, acting_user=user, **values)


# -- the History page --------------------------------------------------------------


def test_history_lists_versions_newest_first_with_readable_diffs(records, tenant, admin_user):
    bob = make_member(tenant, "bob", role="rep")
    customer = records.customer(name="Acme", status="lead", tags=["a"])
    as_admin(tenant, admin_user, customer_actions.update_customer, customer, name="Acme Corp", status="active")
    as_admin(tenant, admin_user, customer_actions.update_customer, customer, owner=bob, tags=["a", "b"])
    with activate(tenant, user=admin_user, process="tests"):
        batch = recyclebin.delete(Customer.objects.filter(pk=customer.pk), acting_user=admin_user)
        recyclebin.restore_batch(batch.id, acting_user=admin_user)

    response = login(admin_user).get(url(customer))

    assert response.status_code == 200
    rows = response.context["rows"]
    assert [row["reason"] for row in rows] == ["restored", "deleted", "edited", "edited", "created"]
    assert [row["user"] for row in rows] == ["alice"] * 5
    # Choice labels, not stored codes; the owner by name; lists joined.
    assert changes_of(rows[3]) == {"name": ("Acme", "Acme Corp"), "status": ("Lead", "Active")}
    assert changes_of(rows[2]) == {"owner": ("alice", "bob"), "tags": ("a", "a, b")}
    assert rows[4]["initial"] and changes_of(rows[4])["name"] == ("", "Acme")
    assert rows[0]["changes"] == [] and rows[1]["changes"] == []
    html = response.content.decode()
    assert html.count('data-testid="history-version"') == 5
    assert "Moved to the recycle bin" in html and "Restored from the recycle bin" in html
    assert "Acme Corp" in html and "Active" in html


def test_history_shows_origin_and_process_of_system_changes(records, tenant, admin_user):
    customer = records.customer(name="Traced")
    with activate(tenant, process="celery:something", request_id="req-77", ip="198.51.100.4"):
        customer_actions.update_customer(customer, name="Traced by a task", acting_user=None)
    rows = login(admin_user).get(url(customer)).context["rows"]
    newest = rows[0]
    assert newest["user"] == "" and newest["process"] == "celery:something"
    assert (newest["version"].request_id, newest["version"].ip_address) == ("req-77", "198.51.100.4")


def test_related_records_are_named_and_dates_use_the_users_time_zone(records, tenant, admin_user):
    first, second = records.customer(name="First Co"), records.customer(name="Second Co")
    contact = records.contact(first, name="Pat")
    as_admin(tenant, admin_user, customer_actions.update_contact, contact, customer=second)
    due = timezone.now().replace(microsecond=0) + timedelta(days=3)
    ticket = records.ticket(first, subject="Broken")
    as_admin(tenant, admin_user, customer_actions.update_ticket, ticket, due_at=due)

    client = login(admin_user)
    client.post("/accounts/preferences/", {"language": "en", "time_zone": "Asia/Shanghai"})

    contact_rows = client.get(url(contact, "contact")).context["rows"]
    assert changes_of(contact_rows[0]) == {"customer": ("First Co", "Second Co")}
    ticket_rows = client.get(url(ticket, "ticket")).context["rows"]
    with translation.override("en"):
        expected = formats.date_format(due.astimezone(ZoneInfo("Asia/Shanghai")), "SHORT_DATETIME_FORMAT")
    assert changes_of(ticket_rows[0])["due_at"][1] == expected


def test_history_is_a_404_outside_what_the_user_may_see(records, other_records, tenant, admin_user, member_client):
    mine = records.customer()
    foreign = other_records.customer()
    client = login(admin_user)
    assert client.get(url(foreign)).status_code == 404  # another tenant's record
    assert client.get("/history/customer/999999999/").status_code == 404
    assert client.get(f"/history/customer/{2**70}/").status_code == 404
    assert client.get(f"/history/invoice/{mine.pk}/").status_code == 404
    assert client.get(f"/history/tenant/{tenant.pk}/").status_code == 404

    rep = member_client("rep")  # owns nothing: another rep's (alice's) customer is invisible
    assert rep.get(url(mine)).status_code == 404
    own = RecordMaker(tenant, rep.user).customer()
    assert rep.get(url(own)).status_code == 200
    support = member_client("support")  # support may not see opportunities at all
    deal = records.opportunity(mine)
    assert support.get(url(deal, "opportunity")).status_code == 404

    with activate(tenant, user=admin_user):
        recyclebin.delete(Customer.objects.filter(pk=mine.pk), acting_user=admin_user)
    assert client.get(url(mine)).status_code == 404  # in the bin: not an alive record


def test_anonymous_visitors_are_sent_to_log_in(records):
    customer = records.customer()
    from django.test import Client

    response = Client().get(url(customer))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_htmx_requests_get_the_versions_partial_and_the_tab_lazy_loads_it(records, admin_user):
    customer = records.customer(name="Tabbed")
    response = login(admin_user).get(url(customer), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and 'data-testid="history-versions"' in html
    assert "HX-Request" in response["Vary"]

    tab = render_to_string("history/_tab.html", {"object": customer, "record_type": "customer"})
    assert f'hx-get="/history/customer/{customer.pk}/"' in tab and 'data-testid="history-tab"' in tab


def _query_count(client, path) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200
    return len(queries)


def _edited(maker, tenant, admin_user, other, edits):
    customer = maker.customer(name="Edit 0")
    for n in range(1, edits + 1):
        owner = other if n % 2 else admin_user
        as_admin(tenant, admin_user, customer_actions.update_customer, customer, name=f"Edit {n}", owner=owner)
    return customer


def test_the_history_page_runs_a_constant_number_of_queries(records, tenant, admin_user):
    other = make_member(tenant, "carol", role="manager")
    few = _edited(records, tenant, admin_user, other, 2)
    many = _edited(records, tenant, admin_user, other, 40)
    client = login(admin_user)
    client.get(url(few))  # warm the session
    expected = _query_count(client, url(few))
    assert _query_count(client, url(many)) == expected
    assert _query_count(client, url(many) + "?page=2") == expected
    assert _query_count(client, url(many) + "?page=2") == expected
    partial = client.get(url(many) + "?page=2", HTTP_HX_REQUEST="true")
    assert len(partial.context["rows"]) == 41 - 25
    assert partial.context["rows"][-1]["initial"]


def test_pages_pair_the_last_version_with_the_one_before_it(records, tenant, admin_user):
    customer = _edited(records, tenant, admin_user, admin_user, 30)
    client = login(admin_user)
    first_page = client.get(url(customer)).context["rows"]
    assert len(first_page) == 25
    # Edit 6 is the 25th newest; it changed the name from Edit 5.
    assert changes_of(first_page[-1])["name"] == ("Edit 5", "Edit 6")
    assert not first_page[-1]["initial"]
    for bad in ("abc", "0", "-1", "99999", "1e9"):
        assert client.get(url(customer) + f"?page={bad}").status_code == 200


# -- revert ------------------------------------------------------------------------


def test_revert_puts_values_back_with_history_and_an_audit_event(records, tenant, admin_user):
    customer = records.customer(name="Old name", phone="111", status="lead")
    first = customer.history.earliest("history_date")
    as_admin(
        tenant, admin_user, customer_actions.update_customer, customer, name="New name", phone="222", status="active"
    )
    client = login(admin_user)

    page = client.get(revert_url(customer, first))
    assert page.status_code == 200
    assert {change["field"]: (change["old"], change["new"]) for change in page.context["changes"]} == {
        "name": ("New name", "Old name"),
        "phone": ("222", "111"),
        "status": ("Active", "Lead"),
    }
    assert page.content.decode().count('data-testid="revert-change"') == 3

    response = client.post(revert_url(customer, first))
    assert response.status_code == 302 and response["Location"] == url(customer)
    customer.refresh_from_db()
    assert (customer.name, customer.phone, customer.status) == ("Old name", "111", "lead")
    newest = customer.history.latest("history_date")
    assert newest.history_change_reason == "reverted" and newest.history_user == admin_user
    event = AuditEvent.objects.filter(tenant=tenant, action="revert").get()
    assert event.object_type == "customer" and event.object_id == str(customer.pk)
    assert event.detail["history_id"] == first.history_id and event.actor == admin_user

    history_page = client.get(response["Location"])
    assert history_page.context["rows"][0]["reason"] == "reverted"
    assert "was reverted to the version of" in history_page.content.decode()


def test_revert_is_refused_when_a_unique_email_is_taken_now(records, tenant, admin_user):
    a = records.customer(name="A", email="x@example.com")
    first = a.history.earliest("history_date")
    as_admin(tenant, admin_user, customer_actions.update_customer, a, email="y@example.com")
    records.customer(name="B", email="x@example.com")
    versions_before = a.history.count()
    client = login(admin_user)

    response = client.post(revert_url(a, first))

    assert response.status_code == 409
    html = response.content.decode()
    assert "Cannot revert:" in html and "Another customer already uses this email address." in html
    assert 'data-testid="confirm-revert"' not in html
    a.refresh_from_db()
    assert a.email == "y@example.com" and a.history.count() == versions_before
    assert not AuditEvent.objects.filter(tenant=tenant, action="revert").exists()


def test_reverting_to_the_current_values_changes_nothing(records, tenant, admin_user):
    customer = records.customer(name="Same")
    as_admin(tenant, admin_user, customer_actions.update_customer, customer, name="Other")
    as_admin(tenant, admin_user, customer_actions.update_customer, customer, name="Same")
    first = customer.history.earliest("history_date")
    client = login(admin_user)
    assert client.get(revert_url(customer, first)).context["changes"] == []
    response = client.post(revert_url(customer, first), follow=True)
    assert "Nothing to revert" in response.content.decode()
    assert not AuditEvent.objects.filter(tenant=tenant, action="revert").exists()


def test_revert_needs_the_right_to_change_the_record(records, tenant, admin_user, member_client):
    customer = records.customer(name="Guarded")
    first = customer.history.earliest("history_date")
    as_admin(tenant, admin_user, customer_actions.update_customer, customer, name="Changed")

    viewer = member_client("viewer")
    assert viewer.get(url(customer)).status_code == 200  # may read the history
    assert 'data-testid="revert-link"' not in viewer.get(url(customer)).content.decode()
    assert viewer.get(revert_url(customer, first)).status_code == 403
    assert viewer.post(revert_url(customer, first)).status_code == 403

    rep = member_client("rep")  # another rep's customer: not even visible
    assert rep.get(revert_url(customer, first)).status_code == 404
    assert rep.post(revert_url(customer, first)).status_code == 404

    customer.refresh_from_db()
    assert customer.name == "Changed"

    own = RecordMaker(tenant, rep.user).customer(name="Mine")
    own_first = own.history.earliest("history_date")
    as_admin(tenant, rep.user, customer_actions.update_customer, own, name="Mine, renamed")
    assert rep.post(revert_url(own, own_first)).status_code == 302
    own.refresh_from_db()
    assert own.name == "Mine"


def test_a_version_of_another_record_is_a_404(records, other_records, admin_user):
    customer, other = records.customer(), records.customer()
    foreign = other_records.customer()
    client = login(admin_user)
    other_version = other.history.earliest("history_date")
    foreign_version = foreign.history.earliest("history_date")
    assert client.get(revert_url(customer, other_version)).status_code == 404
    assert client.post(revert_url(customer, other_version)).status_code == 404
    assert client.post(revert_url(customer, foreign_version)).status_code == 404
    assert client.get(f"/history/customer/{customer.pk}/{2**70}/revert/").status_code == 404
    assert client.get(f"/history/customer/{customer.pk}/0/revert/").status_code == 404
    assert client.get(f"/history/nothing/{customer.pk}/1/revert/").status_code == 404


def test_revert_works_for_child_records(records, tenant, admin_user):
    ticket = records.ticket(subject="Printer", priority="low")
    first = ticket.history.earliest("history_date")
    as_admin(tenant, admin_user, customer_actions.update_ticket, ticket, subject="Printer on fire", priority="urgent")
    client = login(admin_user)
    changes = client.get(revert_url(ticket, first, "ticket")).context["changes"]
    assert {change["field"] for change in changes} == {"subject", "priority"}
    assert client.post(revert_url(ticket, first, "ticket")).status_code == 302
    ticket.refresh_from_db()
    assert (ticket.subject, ticket.priority) == ("Printer", "low")


def test_the_pages_render_in_chinese(records, tenant, admin_user):
    customer = records.customer(name="Acme")
    first = customer.history.earliest("history_date")
    as_admin(tenant, admin_user, customer_actions.update_customer, customer, name="Acme Corp", status="active")
    client = login(admin_user, language="zh-hans")
    assert client.get(url(customer)).status_code == 200
    assert client.get(revert_url(customer, first)).status_code == 200
    assert client.get(url(customer), HTTP_HX_REQUEST="true").status_code == 200


def test_revert_is_refused_while_the_versions_parent_is_in_the_recycle_bin(records, tenant, admin_user):
    first_home, second_home = records.customer(name="Old home"), records.customer(name="New home")
    contact = records.contact(first_home, name="Pat")
    first = contact.history.earliest("history_date")
    as_admin(tenant, admin_user, customer_actions.update_contact, contact, customer=second_home)
    with activate(tenant, user=admin_user):
        recyclebin.delete(Customer.objects.filter(pk=first_home.pk), acting_user=admin_user)
    client = login(admin_user)

    page = client.get(revert_url(contact, first, "contact"))
    assert page.status_code == 409 and "Old home" in page.context["error"]
    assert 'data-testid="confirm-revert"' not in page.content.decode()
    response = client.post(revert_url(contact, first, "contact"))
    assert response.status_code == 409 and "is in the recycle bin" in response.content.decode()
    contact.refresh_from_db()
    assert contact.customer_id == second_home.pk
