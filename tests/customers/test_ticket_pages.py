"""Ticket pages: the generic page contract plus filters, status changes, assignment and roles."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from crm.tenancy.context import activate
from customers.models import Ticket
from tests.conftest import login
from tests.contracts import RecordPagesContract
from tests.factories import make_member


class TestTicketPages(RecordPagesContract):
    record_type = "ticket"
    list_url = "tickets:list"
    detail_url = "tickets:detail"
    create_url = "tickets:create"
    edit_url = "tickets:edit"
    text_field = "subject"
    kept_field = "description"
    roles_that_add = ("admin", "manager", "rep", "support")
    roles_that_change = ("admin", "manager", "support")

    def valid_data(self, records) -> dict:
        return {
            "customer": records.customer().pk,
            "subject": "Printer on fire",
            "description": "Smoke since this morning.",
            "status": "new",
            "priority": "high",
            "assignee": "",
            "due_at": "2027-01-15T09:30",
        }


def page(response) -> str:
    return response.content.decode()


def subjects(response) -> list[str]:
    return [ticket.subject for ticket in response.context["object_list"]]


# -- create and edit -----------------------------------------------------------------


def test_create_goes_through_the_action(records, admin_user):
    data = {**TestTicketPages().valid_data(records), "assignee": admin_user.pk, "status": "resolved"}
    response = login(admin_user).post(reverse("tickets:create"), data)
    ticket = Ticket.all_objects.get(subject="Printer on fire")
    assert response.status_code == 302 and response["Location"] == ticket.get_absolute_url()
    assert ticket.tenant_id == records.tenant.pk
    assert ticket.assignee == admin_user and ticket.priority == "high"
    assert ticket.resolved_at is not None  # set by the action
    assert ticket.due_at is not None


def test_create_preselects_the_customer_from_the_query_string(records, admin_user):
    customer = records.customer(name="Preselected Ltd")
    body = page(login(admin_user).get(reverse("tickets:create"), {"customer": customer.pk}))
    assert f'<option value="{customer.pk}" selected>Preselected Ltd</option>' in body


@pytest.mark.parametrize("junk", ["abc", "\x00", "99999999999999999999999", "987654321"])
def test_create_ignores_a_bad_customer_preselection(records, admin_user, junk):
    assert login(admin_user).get(reverse("tickets:create"), {"customer": junk}).status_code == 200


def test_support_creates_tickets_for_any_customer(records, tenant):
    support = make_member(tenant, role="support")
    data = TestTicketPages().valid_data(records)  # a customer owned by the admin
    assert login(support).post(reverse("tickets:create"), data).status_code == 302
    assert Ticket.all_objects.filter(subject=data["subject"], customer_id=data["customer"]).exists()


def test_a_rep_cannot_file_a_ticket_on_another_reps_customer(records, tenant):
    rep = make_member(tenant, role="rep")
    data = TestTicketPages().valid_data(records)  # not the rep's customer
    response = login(rep).post(reverse("tickets:create"), data)
    assert response.status_code == 200 and "Select a valid choice" in page(response)
    assert not Ticket.all_objects.filter(subject=data["subject"]).exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("status", "burning", "Select a valid choice"),
        ("priority", "whenever", "Select a valid choice"),
        ("due_at", "tomorrow-ish", "Enter a valid date/time"),
        ("assignee", "987654321", "Select a valid choice"),
        ("customer", "\x00", "Null characters are not allowed"),
    ],
)
def test_bad_values_are_errors_next_to_the_field(records, admin_user, field, value, message):
    data = {**TestTicketPages().valid_data(records), field: value}
    response = login(admin_user).post(reverse("tickets:create"), data)
    assert response.status_code == 200
    body = page(response)
    assert message in body and 'aria-invalid="true"' in body
    assert "Printer on fire" in body


def test_edit_to_closed_sets_resolved_at_and_reopening_clears_it(records, admin_user):
    ticket = records.ticket()
    data = {**TestTicketPages().valid_data(records), "customer": ticket.customer_id, "status": "closed"}
    client = login(admin_user)
    assert client.post(reverse("tickets:edit", args=[ticket.pk]), data).status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == "closed" and ticket.resolved_at is not None
    assert client.post(reverse("tickets:edit", args=[ticket.pk]), {**data, "status": "open"}).status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == "open" and ticket.resolved_at is None


# -- list ------------------------------------------------------------------------------


@pytest.fixture
def tickets(records, tenant, admin_user):
    now = timezone.now()
    acme = records.customer(name="Acme Corp")
    globex = records.customer(name="Globex")
    agent = make_member(tenant, "agent", role="support")
    return {
        "late": records.ticket(acme, subject="Late one", status="open", due_at=now - timedelta(hours=2)),
        "late_pending": records.ticket(
            globex, subject="Late pending", status="pending", priority="urgent", due_at=now - timedelta(days=3)
        ),
        "late_but_done": records.ticket(
            acme, subject="Late but resolved", status="resolved", due_at=now - timedelta(days=1)
        ),
        "future": records.ticket(
            globex, subject="Future one", status="new", priority="low", due_at=now + timedelta(days=2), assignee=agent
        ),
        "no_due": records.ticket(acme, subject="No due date", status="closed", due_at=None, assignee=admin_user),
        "agent": agent,
    }


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, {"Late one", "Late pending", "Late but resolved", "Future one", "No due date"}),
        ({"overdue": "on"}, {"Late one", "Late pending"}),
        ({"overdue": "true"}, {"Late one", "Late pending"}),
        ({"overdue": ""}, {"Late one", "Late pending", "Late but resolved", "Future one", "No due date"}),
        ({"status": "open"}, {"Late one"}),
        ({"status": "unresolved"}, {"Late one", "Late pending", "Future one"}),
        ({"priority": "urgent"}, {"Late pending"}),
        ({"assignee": "null"}, {"Late one", "Late pending", "Late but resolved"}),
        ({"q": "globex"}, {"Late pending", "Future one"}),
        ({"q": "no due"}, {"No due date"}),
        ({"overdue": "on", "q": "acme"}, {"Late one"}),
        ({"status": "burning"}, set()),
        ({"due_from": "not a date"}, set()),
    ],
)
def test_list_filters(tickets, admin_user, params, expected):
    response = login(admin_user).get(reverse("tickets:list"), params)
    assert response.status_code == 200
    assert set(subjects(response)) == expected


def test_list_filters_by_assignee(tickets, admin_user):
    client = login(admin_user)
    assert subjects(client.get(reverse("tickets:list"), {"assignee": tickets["agent"].pk})) == ["Future one"]
    assert subjects(client.get(reverse("tickets:list"), {"assignee": admin_user.pk})) == ["No due date"]


def test_list_filters_by_due_date_range(tickets, admin_user):
    today = timezone.localdate()
    in_two_days = (today + timedelta(days=2)).isoformat()
    response = login(admin_user).get(reverse("tickets:list"), {"due_from": in_two_days, "due_to": in_two_days})
    assert subjects(response) == ["Future one"]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("subject", ["Future one", "Late but resolved", "Late one", "Late pending", "No due date"]),
        ("-priority", ["Late pending", "No due date", "Late but resolved", "Late one", "Future one"]),
        ("status", ["Future one", "Late one", "Late pending", "Late but resolved", "No due date"]),
        ("due_at", ["Late pending", "Late but resolved", "Late one", "Future one", "No due date"]),
        ("-due_at", ["Future one", "Late one", "Late but resolved", "Late pending", "No due date"]),
    ],
)
def test_list_sorting(tickets, admin_user, sort, expected):
    assert subjects(login(admin_user).get(reverse("tickets:list"), {"sort": sort})) == expected


def test_list_marks_overdue_tickets(tickets, admin_user):
    body = page(login(admin_user).get(reverse("tickets:list"), {"sort": "subject"}))
    assert body.count('data-testid="overdue"') == 2


def test_list_paginates(records, admin_user):
    customer = records.customer()
    for n in range(6):
        records.ticket(customer, subject=f"T{n}")
    client = login(admin_user)
    response = client.get(reverse("tickets:list"), {"sort": "subject", "page_size": 4, "page": 2})
    assert subjects(response) == ["T4", "T5"]


def test_list_query_count_is_constant_with_filters(records, admin_user, tenant):
    client = login(admin_user)
    params = {"status": "unresolved", "q": "t", "sort": "priority"}
    records.ticket(subject="t0")
    client.get(reverse("tickets:list"), params)
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("tickets:list"), params)
    for n in range(10):
        records.ticket(subject=f"t{n + 1}", assignee=make_member(tenant, role="support"))
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("tickets:list"), params)
    assert len(many) == len(few)


def test_list_has_empty_states(records, admin_user):
    client = login(admin_user)
    assert "No tickets yet." in page(client.get(reverse("tickets:list")))
    records.ticket()
    assert "No tickets match these filters." in page(client.get(reverse("tickets:list"), {"q": "nothing like it"}))


def test_a_rep_lists_only_tickets_of_own_and_shared_customers(records, tenant):
    rep = make_member(tenant, role="rep")
    records.ticket(records.customer(owner=rep), subject="Mine")
    records.ticket(subject="Not mine")
    assert subjects(login(rep).get(reverse("tickets:list"))) == ["Mine"]


# -- detail: status and assignment --------------------------------------------------------


def test_detail_offers_status_and_assignment_forms(records, admin_user):
    ticket = records.ticket(description="Line one\nLine two")
    body = page(login(admin_user).get(reverse("tickets:detail", args=[ticket.pk])))
    assert 'data-testid="ticket-status-form"' in body
    assert 'data-testid="ticket-assign-form"' in body
    assert 'data-testid="assign-to-me"' in body
    assert "Line one<br>Line two" in body
    assert f'hx-post="{reverse("tickets:status", args=[ticket.pk])}"' in body


@pytest.mark.parametrize("status", ["resolved", "closed"])
def test_resolving_sets_resolved_at(records, admin_user, status):
    ticket = records.ticket(status="open")
    response = login(admin_user).post(reverse("tickets:status", args=[ticket.pk]), {"status": status})
    assert response.status_code == 302 and response["Location"] == ticket.get_absolute_url()
    ticket.refresh_from_db()
    assert ticket.status == status and ticket.resolved_at is not None


def test_reopening_clears_resolved_at(records, admin_user):
    ticket = records.ticket(status="resolved")
    assert ticket.resolved_at is not None
    login(admin_user).post(reverse("tickets:status", args=[ticket.pk]), {"status": "open"})
    ticket.refresh_from_db()
    assert ticket.status == "open" and ticket.resolved_at is None


def test_status_change_by_htmx_answers_with_the_updated_detail(records, admin_user):
    ticket = records.ticket(status="new")
    response = login(admin_user).post(
        reverse("tickets:status", args=[ticket.pk]), {"status": "pending"}, HTTP_HX_REQUEST="true", follow=True
    )
    body = page(response)
    assert response.status_code == 200 and 'id="ticket-detail"' in body
    assert 'data-status="pending"' in body and "Status changed to Pending." in body


@pytest.mark.parametrize("status", ["burning", "", "\x00", "OPEN"])
def test_an_invalid_status_is_a_client_error(records, admin_user, status):
    ticket = records.ticket(status="open")
    response = login(admin_user).post(reverse("tickets:status", args=[ticket.pk]), {"status": status})
    assert response.status_code == 400
    assert "Select a valid choice" in page(response) or "This field is required" in page(response)
    ticket.refresh_from_db()
    assert ticket.status == "open"


def test_assign_to_a_member_to_me_and_back_to_nobody(records, admin_user, tenant):
    agent = make_member(tenant, "agent-a", role="support")
    ticket = records.ticket()
    client = login(agent)
    url = reverse("tickets:assign", args=[ticket.pk])
    assert client.post(url, {"assignee": admin_user.pk}).status_code == 302
    ticket.refresh_from_db()
    assert ticket.assignee == admin_user
    response = client.post(url, {"assignee": agent.pk}, follow=True)
    ticket.refresh_from_db()
    assert ticket.assignee == agent
    assert "assigned to you" in page(response)
    client.post(url, {"assignee": ""})
    ticket.refresh_from_db()
    assert ticket.assignee is None


@pytest.mark.parametrize("assignee", ["987654321", "x", "\x00"])
def test_assigning_a_non_member_is_refused(records, admin_user, assignee):
    ticket = records.ticket(assignee=admin_user)
    response = login(admin_user).post(reverse("tickets:assign", args=[ticket.pk]), {"assignee": assignee})
    assert response.status_code == 400
    ticket.refresh_from_db()
    assert ticket.assignee == admin_user


def test_a_member_of_another_tenant_cannot_be_assigned(records, other_records, admin_user):
    ticket = records.ticket()
    response = login(admin_user).post(reverse("tickets:assign", args=[ticket.pk]), {"assignee": other_records.actor.pk})
    assert response.status_code == 400
    ticket.refresh_from_db()
    assert ticket.assignee is None


def test_status_and_assign_only_accept_post(records, admin_user):
    ticket = records.ticket()
    client = login(admin_user)
    assert client.get(reverse("tickets:status", args=[ticket.pk])).status_code == 405
    assert client.get(reverse("tickets:assign", args=[ticket.pk])).status_code == 405


def test_a_viewer_reads_but_cannot_change(records, tenant):
    ticket = records.ticket(status="open")
    viewer = make_member(tenant, role="viewer")
    client = login(viewer)
    body = page(client.get(reverse("tickets:detail", args=[ticket.pk])))
    assert ticket.subject in body
    assert 'data-testid="ticket-status-form"' not in body and reverse("tickets:edit", args=[ticket.pk]) not in body
    assert reverse("tickets:create") not in page(client.get(reverse("tickets:list")))
    assert client.post(reverse("tickets:status", args=[ticket.pk]), {"status": "closed"}).status_code == 403
    assert client.post(reverse("tickets:assign", args=[ticket.pk]), {"assignee": viewer.pk}).status_code == 403
    ticket.refresh_from_db()
    assert ticket.status == "open" and ticket.assignee is None


def test_a_rep_cannot_work_another_reps_tickets(records, tenant):
    rep = make_member(tenant, role="rep")
    mine = records.ticket(records.customer(owner=rep))
    theirs = records.ticket()
    client = login(rep)
    assert client.post(reverse("tickets:status", args=[mine.pk]), {"status": "closed"}).status_code == 302
    assert client.post(reverse("tickets:status", args=[theirs.pk]), {"status": "closed"}).status_code == 404
    assert client.get(reverse("tickets:detail", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == "new"


def test_another_tenants_ticket_cannot_be_changed(records, other_records, admin_user):
    theirs = other_records.ticket()
    client = login(admin_user)
    assert client.post(reverse("tickets:status", args=[theirs.pk]), {"status": "closed"}).status_code == 404
    assert client.post(reverse("tickets:assign", args=[theirs.pk]), {"assignee": ""}).status_code == 404
    with activate(other_records.tenant):
        assert Ticket.objects.get(pk=theirs.pk).status == "new"


def test_support_works_tickets_but_sees_no_opportunity_links(records, tenant):
    ticket = records.ticket()
    client = login(make_member(tenant, role="support"))
    body = page(client.get(reverse("tickets:detail", args=[ticket.pk])))
    assert 'data-testid="ticket-status-form"' in body
    assert reverse("sales:list") not in body
    assert client.post(reverse("tickets:status", args=[ticket.pk]), {"status": "open"}).status_code == 302


NASTY = ["99999999999999999999999", "-1", "1e1000", "9999-99-99", "0000-01-01", "\x00", "' OR 1=1 --"]


@pytest.mark.parametrize("value", NASTY)
@pytest.mark.parametrize("param", ["status", "priority", "assignee", "due_from", "due_to", "overdue", "q", "sort"])
def test_list_never_fails_on_nasty_parameters(records, admin_user, param, value):
    records.ticket()
    assert login(admin_user).get(reverse("tickets:list"), {param: value}).status_code == 200


@pytest.mark.parametrize("value", NASTY)
@pytest.mark.parametrize("field", ["customer", "status", "priority", "assignee", "due_at"])
def test_the_form_never_fails_on_nasty_values(records, admin_user, field, value):
    data = {**TestTicketPages().valid_data(records), field: value}
    response = login(admin_user).post(reverse("tickets:create"), data)
    assert response.status_code in (200, 302)
