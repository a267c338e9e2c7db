"""A person's data (PIPL art. 45, GDPR art. 15): an administrator downloads everything held about
one customer or contact (the record, what hangs off it, every history version, the audit events
naming them) as a ZIP of JSON and CSV; the download is recorded."""

import csv
import io
import json
import zipfile

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from crm.recyclebin.actions import delete
from crm.tenancy.context import activate
from customers import actions as customer_actions
from customers.models import Contact
from tests.conftest import login
from tests.factories import make_member


def unzip(data: bytes) -> dict:
    archive = zipfile.ZipFile(io.BytesIO(data))
    files = {}
    for name in archive.namelist():
        raw = archive.read(name)
        files[name] = (
            json.loads(raw) if name.endswith(".json") else list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
        )
    return files


@pytest.fixture
def person(records):
    """A customer with a contact (changed once), an interaction with that contact, a ticket, and a contact in the bin."""
    customer = records.customer(name="Li Wei", email="li.wei@example.cn")
    contact = records.contact(customer, name="Wang Fang", email="wang@example.cn")
    with activate(records.tenant, user=records.actor, process="tests"):
        customer_actions.update_contact(contact, acting_user=records.actor, name="Wang Fang", title="CFO")
    records.interaction(customer, contact=contact, summary="Called about the invoice.")
    records.ticket(customer, subject="Invoice wrong")
    binned = records.contact(customer, name="Old contact")
    with activate(records.tenant, user=records.actor, process="tests"):
        delete(Contact.objects.filter(pk=binned.pk), acting_user=records.actor)
    return customer, contact


def exported_events(tenant):
    return list(AuditEvent.objects.filter(tenant=tenant, action=AuditEvent.Action.EXPORT))


def test_a_customers_zip_holds_the_record_its_children_their_history_and_audit_events(admin_user, person, tenant):
    customer, contact = person
    response = login(admin_user).get(reverse("privacy:personal_data", args=["customer", customer.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    files = unzip(response.content)
    assert files["records/customer.json"][0]["email"] == "li.wei@example.cn"
    assert files["records/customer.csv"][0]["name"] == "Li Wei"
    assert sorted(row["name"] for row in files["records/contact.json"]) == ["Old contact", "Wang Fang"]
    assert [row["subject"] for row in files["records/ticket.csv"]] == ["Invoice wrong"]
    assert len(files["records/interaction.json"]) == 1
    versions = [row for row in files["history/contact.json"] if row["id"] == contact.pk]
    assert [row["history_type"] for row in versions] == ["+", "~"]  # created, then changed
    assert [row["title"] for row in versions] == ["", "CFO"]
    named = {(event["object_type"], event["object_id"]) for event in files["audit-events.json"]}
    assert ("customer", str(customer.pk)) in named and ("contact", str(contact.pk)) in named
    assert len(files["audit-events.csv"]) == len(files["audit-events.json"])
    manifest = files["manifest.json"]
    assert manifest["subject"] == {"type": "customer", "id": customer.pk}
    assert manifest["counts"]["records/contact"] == 2

    [event] = exported_events(tenant)
    assert (event.object_type, event.object_id, event.detail["what"]) == ("customer", str(customer.pk), "personal_data")
    assert "Li Wei" not in json.dumps(event.detail)


def test_a_contacts_zip_holds_the_interactions_that_name_it(admin_user, person):
    _customer, contact = person
    response = login(admin_user).get(reverse("privacy:personal_data", args=["contact", contact.pk]))
    files = unzip(response.content)
    assert [row["name"] for row in files["records/contact.json"]] == ["Wang Fang"]
    assert [row["summary"] for row in files["records/interaction.json"]] == ["Called about the invoice."]
    assert "records/customer.json" not in files  # the company they work for is not their data


@pytest.mark.parametrize("role", ["manager", "rep", "support", "viewer"])
def test_only_administrators_may_download_a_persons_data(tenant, person, role):
    customer, _contact = person
    client = login(make_member(tenant, role=role))
    response = client.get(reverse("privacy:personal_data", args=["customer", customer.pk]))
    assert response.status_code == 403
    assert exported_events(tenant) == []


def test_another_companys_record_is_a_404(admin_user, other_records, tenant):
    theirs = other_records.customer(name="Theirs")
    response = login(admin_user).get(reverse("privacy:personal_data", args=["customer", theirs.pk]))
    assert response.status_code == 404
    assert exported_events(tenant) == []


def test_a_type_that_holds_no_person_is_a_404(admin_user, records):
    ticket = records.ticket()
    assert login(admin_user).get(reverse("privacy:personal_data", args=["ticket", ticket.pk])).status_code == 404


def test_the_api_serves_the_same_zip_to_administrators(api, api_as, person):
    customer, _contact = person
    response = api.get(f"/api/v1/customers/{customer.pk}/personal-data/")
    assert response.status_code == 200
    assert unzip(response.content)["records/customer.json"][0]["name"] == "Li Wei"
    refused = api_as("manager").get(f"/api/v1/customers/{customer.pk}/personal-data/")
    assert refused.status_code == 403
    assert api.get("/api/v1/customers/999999/personal-data/").status_code == 404


def test_the_customer_page_offers_the_download_to_administrators_only(tenant, admin_user, person):
    customer, _contact = person
    url = reverse("customers:detail", args=[customer.pk])
    assert 'data-testid="customer-personal-data"' in login(admin_user).get(url).content.decode()
    manager = login(make_member(tenant, role="manager"))
    assert 'data-testid="customer-personal-data"' not in manager.get(url).content.decode()
