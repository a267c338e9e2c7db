"""The API's list endpoints take ?format=csv (or xlsx): every row the same filters select, streamed."""

import pytest

from tests.api.conftest import token_client
from tests.exports.conftest import csv_rows, xlsx_rows
from tests.factories import make_member

RESOURCES = {
    "customers": "customer",
    "contacts": "contact",
    "interactions": "interaction",
    "tickets": "ticket",
    "opportunities": "opportunity",
}


@pytest.mark.parametrize("prefix", sorted(RESOURCES))
def test_every_resource_exports_as_csv(api, records, prefix, events):
    customer = records.customer()
    for _ in range(30):  # more than a page
        if prefix == "customers":
            records.customer()
        else:
            records.any(RESOURCES[prefix], customer=customer)
    response = api.get(f"/api/v1/{prefix}/", {"format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = csv_rows(response)
    assert len(rows) == (31 if prefix == "customers" else 30)  # every row, not a page of 25
    assert events()[-1].count == len(rows)


def test_api_export_takes_the_same_filters_and_ordering(api, records, events):
    records.customer(name="Acme", status="active")
    records.customer(name="Zeta", status="active")
    records.customer(name="Lead Ltd", status="lead")
    response = api.get("/api/v1/customers/", {"format": "csv", "status": "active", "ordering": "-name"})
    assert [row["name"] for row in csv_rows(response)] == ["Zeta", "Acme"]
    assert events()[-1].detail["filters"] == ["ordering", "status"]


def test_api_export_as_xlsx(api, records):
    records.customer(name="华为")
    response = api.get("/api/v1/customers/", {"format": "xlsx"})
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert [row["name"] for row in xlsx_rows(response)] == ["华为"]


def test_a_rep_exports_only_their_own_over_the_api(tenant, records):
    rep = make_member(tenant, "rita", role="rep")
    records.customer(name="Rep's", owner=rep)
    records.customer(name="Admin's")
    response = token_client(tenant, rep).get("/api/v1/customers/", {"format": "csv"})
    assert [row["name"] for row in csv_rows(response)] == ["Rep's"]


def test_an_unknown_format_is_a_400_naming_the_choices(api, events):
    response = api.get("/api/v1/customers/", {"format": "pdf"})
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["format"] == ["Choose one of: csv, xlsx."]
    assert events() == []


def test_support_may_not_export_opportunities_over_the_api(tenant, records, events):
    response = token_client(tenant, make_member(tenant, "sam", role="support")).get(
        "/api/v1/opportunities/", {"format": "csv"}
    )
    assert response.status_code == 403
    assert events() == []


def test_the_recycle_bin_endpoint_exports_too(api, records, events):
    from crm.recyclebin.actions import delete
    from crm.tenancy.context import activate
    from customers.models import Customer

    gone = records.customer(name="Gone")
    records.contact(gone, name="With it")
    with activate(records.tenant, user=records.actor, process="tests"):
        delete(Customer.objects.filter(pk=gone.pk), acting_user=records.actor)
    response = api.get("/api/v1/recycle-bin/", {"format": "csv", "type": "customer"})
    assert [(row["type"], row["label"]) for row in csv_rows(response)] == [("customer", "Gone")]
    assert events()[-1].detail["filters"] == ["type"]
    assert api.get("/api/v1/recycle-bin/", {"format": "json"}).status_code == 400
