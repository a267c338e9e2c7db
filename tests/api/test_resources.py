"""The contract every record resource of the API keeps (customers, contacts, interactions, opportunities, tickets).

A test class names its resource and gives valid input; it inherits list,
create, retrieve, replace, change, delete-to-bin, bulk delete, 401/403/404,
a rep's own records against another's, cross-tenant cases, and the constant
query count of its list. Each write is checked for exactly the audit events
and history rows it leaves.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from audit.models import AuditEvent
from crm.tenancy.context import activate
from customers.models import Contact, Customer, Interaction, Ticket
from sales.models import Opportunity
from tests.api.conftest import error_of
from tests.factories import RecordMaker
from tests.trail import Trail

MODEL_FIELDS = {
    "customer": {
        "kind",
        "name",
        "email",
        "phone",
        "website",
        "industry",
        "address",
        "tier",
        "status",
        "owner",
        "tags",
        "notes",
        "created_at",
        "updated_at",
    },
    "contact": {"customer", "name", "title", "email", "phone"},
    "interaction": {"customer", "contact", "kind", "summary", "occurred_at", "author"},
    "ticket": {"customer", "subject", "description", "status", "priority", "assignee", "due_at", "resolved_at"},
    "ticketmessage": {"ticket", "kind", "body", "author", "created_at"},
    "task": {"title", "notes", "due_at", "remind_before", "assignee", "priority", "done", "customer", "ticket"},
    "savedview": {"list_name", "name", "query", "shared", "user", "is_default", "url"},
    "opportunity": {
        "customer",
        "name",
        "amount",
        "currency",
        "stage",
        "probability",
        "expected_close_date",
        "owner",
        "closed_at",
        "lost_reason",
    },
}


class ResourceContract:
    path = ""  # "customers"
    record_type = ""  # "customer"
    model = None
    text_field = "name"

    # -- what a test class provides ---------------------------------------------
    def create_data(self, records) -> dict:
        raise AssertionError("declare create_data()")

    def foreign_reference(self, other_records) -> dict:
        """Input that points at another tenant's record or person (must be a 400)."""
        return {"customer": other_records.customer().pk}

    # -- helpers ------------------------------------------------------------------------
    def url(self, pk=None, suffix=""):
        return f"/api/v1/{self.path}/" + (f"{pk}/" if pk is not None else "") + suffix

    def make(self, records, **values):
        return records.any(self.record_type, **values)

    def stored(self, tenant, pk):
        with activate(tenant):
            return self.model.all_objects.filter(pk=pk).first()

    def new_text(self):
        return "Changed by the API"

    # -- list -----------------------------------------------------------------------------
    def test_list_returns_a_page_with_results(self, api, records, other_records):
        mine = self.make(records)
        theirs = self.make(other_records)
        response = api.get(self.url())
        assert response.status_code == 200, response.content
        body = response.json()
        assert set(body) == {"count", "count_capped", "next", "previous", "results"}
        ids = {row["id"] for row in body["results"]}
        assert mine.pk in ids
        assert theirs.pk not in ids

    def test_each_listed_row_is_the_record_as_retrieve_shows_it(self, api, records):
        self.make(records)
        assert api.post(self.url(), self.create_data(records), format="json").status_code == 201
        rows = api.get(self.url()).json()["results"]
        assert len(rows) >= 2
        for row in rows:
            assert row == api.get(self.url(row["id"])).json()

    def test_list_runs_a_constant_number_of_queries(self, api, records):
        self.make(records)
        api.get(self.url())  # warm up: token last-used stamp, content types
        with CaptureQueriesContext(connection) as few:
            assert api.get(self.url(), {"page_size": 200}).status_code == 200
        for _ in range(15):
            self.make(records)
        with CaptureQueriesContext(connection) as many:
            response = api.get(self.url(), {"page_size": 200})
        assert response.status_code == 200
        assert len(response.json()["results"]) >= 16
        assert len(many) == len(few), [query["sql"] for query in many.captured_queries]

    def test_page_size_is_capped(self, api, records):
        self.make(records)
        assert api.get(self.url(), {"page_size": 200}).status_code == 200
        error = error_of(api.get(self.url(), {"page_size": 201}), 400)
        assert "page_size" in error["fields"]
        for nonsense in ("0", "-5", "abc", "1e3", "99999999999999999999999"):
            assert "page_size" in error_of(api.get(self.url(), {"page_size": nonsense}), 400)["fields"]

    def test_unknown_query_parameters_are_refused_with_the_allowed_ones(self, api, records):
        error = error_of(api.get(self.url(), {"no_such_filter": "1"}), 400)
        message = error["fields"]["no_such_filter"][0]
        assert "page_size" in message and "ordering" in message

    def test_ordering_by_an_unknown_field_is_refused(self, api, records):
        error = error_of(api.get(self.url(), {"ordering": "password"}), 400)
        assert "ordering" in error["fields"]

    def test_search_and_ordering_work(self, api, records):
        self.make(records)
        response = api.get(self.url(), {"search": "zzz-no-such-thing", "ordering": "-created_at"})
        assert response.status_code == 200, response.content
        assert response.json()["count"] == 0

    # -- create ---------------------------------------------------------------------------
    def test_create(self, api, records):
        data = self.create_data(records)
        with Trail(records.tenant) as trail:
            response = api.post(self.url(), data, format="json")
        assert response.status_code == 201, response.content
        body = response.json()
        assert set(body) >= MODEL_FIELDS[self.record_type] | {"id"}
        record = self.stored(records.tenant, body["id"])
        assert record is not None and record.tenant_id == records.tenant.pk
        assert response["Location"].endswith(self.url(body["id"]))
        assert trail.events == [("create", self.record_type, str(body["id"]))]
        assert trail.versions == [(self.record_type, body["id"], "+", "created")]

    def test_create_refuses_references_to_another_tenant(self, api, records, other_records):
        data = {**self.create_data(records), **self.foreign_reference(other_records)}
        before = self.model.all_objects.count()
        error = error_of(api.post(self.url(), data, format="json"), 400)
        assert set(self.foreign_reference(other_records)) & set(error["fields"])
        assert self.model.all_objects.count() == before

    def test_create_refuses_unknown_fields(self, api, records):
        error = error_of(api.post(self.url(), {**self.create_data(records), "tenant": 1}, format="json"), 400)
        assert "tenant" in error["fields"]

    # -- read, replace, change ------------------------------------------------------------
    def test_retrieve(self, api, records):
        record = self.make(records)
        response = api.get(self.url(record.pk))
        assert response.status_code == 200
        assert response.json()["id"] == record.pk
        assert set(response.json()) >= MODEL_FIELDS[self.record_type]

    def test_put_replaces(self, api, records):
        record = self.make(records)
        data = {**self.create_data(records), self.text_field: self.new_text()}
        response = api.put(self.url(record.pk), data, format="json")
        assert response.status_code == 200, response.content
        assert getattr(self.stored(records.tenant, record.pk), self.text_field) == self.new_text()

    def test_patch_changes_only_what_is_sent(self, api, records):
        record = self.make(records)
        with Trail(records.tenant) as trail:
            response = api.patch(self.url(record.pk), {self.text_field: self.new_text()}, format="json")
        assert response.status_code == 200, response.content
        assert response.json()[self.text_field] == self.new_text()
        assert trail.events == [("update", self.record_type, str(record.pk))]
        assert trail.event_objects[0].detail == {"fields": [self.text_field]}
        assert trail.versions == [(self.record_type, record.pk, "~", "edited")]

    def test_patch_with_bad_input_is_a_400_and_changes_nothing(self, api, records):
        record = self.make(records)
        for body in ({self.text_field: "x" * 20000}, {self.text_field: "nul\x00byte"}, {self.text_field: 12}):
            response = api.patch(self.url(record.pk), body, format="json")
            if body[self.text_field] == 12:  # DRF accepts numbers for text; it is stored as "12"
                assert response.status_code in (200, 400)
                continue
            assert self.text_field in error_of(response, 400)["fields"]
        assert getattr(self.stored(records.tenant, record.pk), self.text_field) in (
            getattr(record, self.text_field),
            "12",
        )

    # -- delete ---------------------------------------------------------------------------------
    def test_delete_moves_the_record_to_the_bin(self, api, records):
        record = self.make(records)
        with Trail(records.tenant) as trail:
            response = api.delete(self.url(record.pk))
        assert response.status_code == 204
        stored = self.stored(records.tenant, record.pk)
        assert stored is not None and stored.deleted_at is not None and stored.deletion_batch is not None
        assert trail.events == [("delete", self.record_type, str(record.pk))]
        assert trail.versions == [(self.record_type, record.pk, "~", "deleted")]
        error_of(api.get(self.url(record.pk)), 404)
        listed = api.get("/api/v1/recycle-bin/", {"type": self.record_type}).json()["results"]
        assert (self.record_type, record.pk) in {(row["type"], row["id"]) for row in listed}

    def test_bulk_delete_is_one_batch(self, api, records):
        chosen = [self.make(records) for _ in range(3)]
        response = api.post(self.url(suffix="bulk-delete/"), {"ids": [r.pk for r in chosen]}, format="json")
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["counts"][self.record_type] == 3
        assert body["total"] >= 3
        batches = {self.stored(records.tenant, r.pk).deletion_batch for r in chosen}
        assert batches == {__import__("uuid").UUID(body["batch"])}

    def test_bulk_delete_with_an_invisible_id_deletes_nothing(self, api, records, other_records):
        mine = self.make(records)
        theirs = self.make(other_records)
        error = error_of(api.post(self.url(suffix="bulk-delete/"), {"ids": [mine.pk, theirs.pk]}, format="json"), 404)
        assert str(theirs.pk) in error["message"]
        assert self.stored(records.tenant, mine.pk).deleted_at is None
        assert self.stored(other_records.tenant, theirs.pk).deleted_at is None

    def test_bulk_delete_refuses_bad_input(self, api, records):
        for body in ({"ids": []}, {"ids": list(range(1, 1002))}, {"ids": ["x"]}, {}, {"ids": [0]}):
            error_of(api.post(self.url(suffix="bulk-delete/"), body, format="json"), 400)

    # -- who may -------------------------------------------------------------------------------
    def test_other_tenants_deleted_and_missing_records_are_404(self, api, records, other_records):
        theirs = self.make(other_records)
        gone = self.make(records)
        with activate(records.tenant, user=records.actor):
            type(gone).objects.filter(pk=gone.pk).delete()
        for pk in (theirs.pk, gone.pk, 2**62):
            error_of(api.get(self.url(pk)), 404)
            error_of(api.put(self.url(pk), self.create_data(records), format="json"), 404)
            error_of(api.patch(self.url(pk), {self.text_field: "x"}, format="json"), 404)
            error_of(api.delete(self.url(pk)), 404)
            error_of(api.get(self.url(pk, "history/")), 404)
            error_of(api.post(self.url(pk, "history/1/revert/")), 404)
        assert self.stored(other_records.tenant, theirs.pk).deleted_at is None

    def test_without_a_valid_token_it_is_401(self, records):
        record = self.make(records)
        for client in (APIClient(), _with_token("0" * 40)):
            for response in (
                client.get(self.url()),
                client.get(self.url(record.pk)),
                client.delete(self.url(record.pk)),
            ):
                error = error_of(response, 401)
                assert error["code"] in ("not_authenticated", "authentication_failed")
                assert response["WWW-Authenticate"].startswith("Token")
        assert self.stored(records.tenant, record.pk).deleted_at is None

    def test_a_rep_reads_and_changes_own_records_only(self, api_as, records):
        rep = api_as("rep")
        mine, theirs = self.make(RecordMaker(records.tenant, rep.user)), self.make(records)
        ids = {row["id"] for row in rep.get(self.url(), {"page_size": 200}).json()["results"]}
        assert mine.pk in ids and theirs.pk not in ids
        assert rep.get(self.url(mine.pk)).status_code == 200
        with Trail(records.tenant) as trail:
            error_of(rep.get(self.url(theirs.pk)), 404)
            error_of(rep.patch(self.url(theirs.pk), {self.text_field: "x"}, format="json"), 404)
            error_of(rep.delete(self.url(theirs.pk)), 404)
            error_of(rep.post(self.url(suffix="bulk-delete/"), {"ids": [theirs.pk]}, format="json"), 404)
        assert trail.events == [] and trail.versions == []
        assert self.stored(records.tenant, theirs.pk).deleted_at is None
        with Trail(records.tenant) as trail:
            response = rep.patch(self.url(mine.pk), {self.text_field: self.new_text()}, format="json")
        assert response.status_code == 200, response.content
        assert trail.events == [("update", self.record_type, str(mine.pk))]

    def test_a_viewer_reads_but_may_not_write(self, api_as, records):
        viewer = api_as("viewer")
        record = self.make(records)
        assert viewer.get(self.url(record.pk)).status_code == 200
        error_of(viewer.post(self.url(), self.create_data(records), format="json"), 403)
        error_of(viewer.patch(self.url(record.pk), {self.text_field: "x"}, format="json"), 403)
        error_of(viewer.delete(self.url(record.pk)), 403)
        error_of(viewer.post(self.url(suffix="bulk-delete/"), {"ids": [record.pk]}, format="json"), 403)
        assert self.stored(records.tenant, record.pk).deleted_at is None
        assert AuditEvent.objects.filter(tenant=records.tenant, action="refused", actor=viewer.user).count() == 2


def _with_token(key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


class TestCustomers(ResourceContract):
    path = "customers"
    record_type = "customer"
    model = Customer

    def create_data(self, records):
        return {
            "name": "Globex",
            "email": f"globex{timezone.now().timestamp()}@example.com",
            "kind": "company",
            "tier": "A",
            "status": "active",
            "tags": ["vip", "cn"],
            "website": "https://globex.example.com",
        }

    def foreign_reference(self, other_records):
        return {"owner": other_records.actor.pk}

    def test_owner_defaults_to_the_requesting_user(self, api, records):
        response = api.post(self.url(), {"name": "Mine"}, format="json")
        assert response.status_code == 201, response.content
        assert response.json()["owner"] == api.user.pk

    def test_a_duplicate_email_is_a_400_not_a_500(self, api, records):
        records.customer(email="taken@example.com")
        error = error_of(api.post(self.url(), {"name": "Dup", "email": "TAKEN@example.com"}, format="json"), 400)
        assert "email" in error["message"]

    def test_delete_takes_the_children_along_as_one_batch(self, api, records):
        customer = records.customer()
        contact = records.contact(customer)
        ticket = records.ticket(customer)
        assert api.delete(self.url(customer.pk)).status_code == 204
        with activate(records.tenant):
            batch = Customer.all_objects.get(pk=customer.pk).deletion_batch
            assert Contact.all_objects.get(pk=contact.pk).deletion_batch == batch
            assert Ticket.all_objects.get(pk=ticket.pk).deletion_batch == batch

    def test_filters(self, api, records):
        hit = records.customer(status="active", tags=["vip"])
        records.customer(status="lead")
        body = api.get(self.url(), {"status": "active", "tag": "vip"}).json()
        assert [row["id"] for row in body["results"]] == [hit.pk]
        error = error_of(api.get(self.url(), {"status": "nope"}), 400)
        assert "status" in error["fields"]
        error_of(api.get(self.url(), {"created_after": "not a date"}), 400)
        # Each request is filtered by its own values (the form class is shared, the data is not).
        lead = api.get(self.url(), {"status": "lead"}).json()["results"]
        assert [row["status"] for row in lead] == ["lead"]
        assert [row["id"] for row in api.get(self.url(), {"status": "active"}).json()["results"]] == [hit.pk]


class TestContacts(ResourceContract):
    path = "contacts"
    record_type = "contact"
    model = Contact

    def create_data(self, records):
        return {"customer": records.customer().pk, "name": "Ada", "title": "CTO", "email": "ada@example.com"}

    def test_a_contact_of_a_deleted_customer_cannot_be_created(self, api, records):
        customer = records.customer()
        with activate(records.tenant, user=records.actor):
            Customer.objects.filter(pk=customer.pk).delete()
        error = error_of(api.post(self.url(), {"customer": customer.pk, "name": "X"}, format="json"), 400)
        assert "customer" in error["fields"]


class TestInteractions(ResourceContract):
    path = "interactions"
    record_type = "interaction"
    model = Interaction
    text_field = "summary"

    def create_data(self, records):
        customer = records.customer()
        return {
            "customer": customer.pk,
            "contact": records.contact(customer).pk,
            "kind": "meeting",
            "summary": "Met at the fair.",
            "occurred_at": (timezone.now() - timedelta(days=1)).isoformat(),
        }

    def test_the_contact_must_belong_to_the_customer(self, api, records):
        data = {**self.create_data(records), "contact": records.contact().pk}
        assert "contact" in error_of(api.post(self.url(), data, format="json"), 400)["fields"]

    def test_author_defaults_to_the_requesting_user(self, api, records):
        response = api.post(self.url(), {"customer": records.customer().pk, "summary": "Hi"}, format="json")
        assert response.status_code == 201, response.content
        assert response.json()["author"] == api.user.pk


class TestTickets(ResourceContract):
    path = "tickets"
    record_type = "ticket"
    model = Ticket
    text_field = "subject"

    def create_data(self, records):
        return {
            "customer": records.customer().pk,
            "subject": "Printer on fire",
            "priority": "urgent",
            "status": "open",
            "assignee": records.actor.pk,
            "due_at": (timezone.now() + timedelta(days=2)).isoformat(),
        }

    def foreign_reference(self, other_records):
        return {"customer": other_records.customer().pk, "assignee": other_records.actor.pk}

    def test_resolving_sets_resolved_at(self, api, records):
        ticket = records.ticket()
        body = api.patch(self.url(ticket.pk), {"status": "resolved"}, format="json").json()
        assert body["resolved_at"] is not None

    def test_support_may_work_tickets(self, api_as, records):
        support = api_as("support")
        response = support.post(self.url(), self.create_data(records), format="json")
        assert response.status_code == 201, response.content
        error_of(support.post("/api/v1/customers/", {"name": "No"}, format="json"), 403)
        error_of(support.get("/api/v1/opportunities/"), 403)


class TestOpportunities(ResourceContract):
    path = "opportunities"
    record_type = "opportunity"
    model = Opportunity

    def create_data(self, records):
        return {
            "customer": records.customer().pk,
            "name": "Big deal",
            "amount": "12500.50",
            "currency": "USD",
            "stage": "proposal",
            "expected_close_date": (timezone.now() + timedelta(days=30)).date().isoformat(),
        }

    def foreign_reference(self, other_records):
        return {"owner": other_records.actor.pk}

    def test_winning_closes_the_deal(self, api, records):
        deal = records.opportunity()
        body = api.patch(self.url(deal.pk), {"stage": "won"}, format="json").json()
        assert body["closed_at"] is not None and body["probability"] == 100

    def test_amount_and_probability_are_validated(self, api, records):
        deal = records.opportunity(amount=Decimal("10"))
        for body in ({"amount": "-1"}, {"amount": "1e400"}, {"probability": 101}, {"currency": "usd"}):
            error_of(api.patch(self.url(deal.pk), body, format="json"), 400)


@pytest.mark.parametrize("path", ["customers", "contacts", "interactions", "opportunities", "tickets"])
def test_a_rep_sees_exactly_what_the_restricting_queryset_gives(path, api_as, records, tenant):
    from customers.actions import share_customer

    rep = api_as("rep")
    own = records.customer(owner=rep.user)
    shared = records.customer()
    records._run(share_customer, shared, rep.user)
    for customer in (own, shared, records.customer()):
        records.contact(customer)
        records.interaction(customer)
        records.opportunity(customer)
        records.ticket(customer)
    model = {
        "customers": Customer,
        "contacts": Contact,
        "interactions": Interaction,
        "opportunities": Opportunity,
        "tickets": Ticket,
    }[path]
    with activate(tenant):
        expected = set(model.objects.for_user(rep.user, "view").values_list("pk", flat=True))
        everything = set(model.objects.values_list("pk", flat=True))
    assert expected and expected != everything
    body = rep.get(f"/api/v1/{path}/", {"page_size": 200}).json()
    assert {row["id"] for row in body["results"]} == expected
    hidden = min(everything - expected)
    error_of(rep.get(f"/api/v1/{path}/{hidden}/"), 404)
