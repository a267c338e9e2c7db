"""Erasure through the API and in the browser: admins only, 404 across companies, 409 under hold,
a confirmation page, the company's erasures and each report (HTML and JSON)."""

import pytest
from django.urls import reverse

from crm.tenancy.context import activate
from customers.models import Contact, Customer
from privacy import actions
from tests.api.conftest import error_of
from tests.conftest import login
from tests.factories import make_member


def erase_url(prefix, pk):
    return f"/api/v1/{prefix}/{pk}/erase/"


@pytest.mark.parametrize("prefix", ["customers", "contacts"])
def test_an_admin_erases_over_the_api_and_gets_the_report(prefix, api, records):
    customer = records.customer(name="Zhang Wei")
    record = customer if prefix == "customers" else records.contact(customer, name="Li Na")
    response = api.post(erase_url(prefix, record.pk))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["complete"] is True and body["record_id"] == record.pk
    assert not type(record).all_objects.filter(pk=record.pk).exists()
    assert api.get(f"/api/v1/erasures/{body['audit_event']['id']}/").json()["left"] == 0
    [row] = api.get("/api/v1/erasures/").json()["results"]
    assert row["event_id"] == body["audit_event"]["id"]


@pytest.mark.parametrize("role", ["manager", "rep", "viewer"])
def test_the_api_refuses_non_admins_with_a_403(role, api_as, records):
    customer = records.customer()
    client = api_as(role)
    error_of(client.post(erase_url("customers", customer.pk)), 403)
    error_of(client.get("/api/v1/erasures/"), 403)
    assert Customer.all_objects.filter(pk=customer.pk).exists()


def test_the_api_answers_404_for_another_companys_record_and_409_under_hold(tenant, api, other_records):
    theirs = other_records.customer()
    error_of(api.post(erase_url("customers", theirs.pk)), 404)
    error_of(api.post(erase_url("customers", 99999999999999999)), 404)
    tenant.legal_hold = True
    tenant.save()
    mine = Customer.all_objects.create(tenant=tenant, name="Held")
    error = error_of(api.post(erase_url("customers", mine.pk)), 409)
    assert error["code"] == "legal_hold" and "legal hold" in error["message"]


def test_another_companys_report_is_a_404(tenant, records, admin_user, other_api):
    customer = records.customer()
    with activate(tenant, user=admin_user):
        event = actions.erase(Customer, customer.pk, acting_user=admin_user)
    error_of(other_api.get(f"/api/v1/erasures/{event.pk}/"), 404)
    assert other_api.get("/api/v1/erasures/").json()["results"] == []


def test_tickets_are_not_erasable_by_request(api, records):
    ticket = records.ticket()
    assert api.post(erase_url("tickets", ticket.pk)).status_code in (404, 405)


# -- browser -----------------------------------------------------------------------------------


def test_the_erase_button_shows_for_admins_only(tenant, records, member_client):
    customer = records.customer()
    contact = records.contact(customer)
    admin = member_client("admin")
    assert b'data-testid="customer-erase"' in admin.get(customer.get_absolute_url()).content
    assert b'data-testid="contact-erase"' in admin.get(reverse("customers:contact_detail", args=[contact.pk])).content
    manager = member_client("manager")
    assert b'data-testid="customer-erase"' not in manager.get(customer.get_absolute_url()).content


def test_erasing_in_the_browser_confirms_then_shows_the_report(tenant, records, member_client):
    customer = records.customer(name="Zhang Wei")
    records.contact(customer, name="Li Na")
    admin = member_client("admin")
    url = reverse("privacy:erase", args=["customer", customer.pk])

    page = admin.get(url)
    assert page.status_code == 200
    assert b"Zhang Wei" in page.content and b"cannot be undone" in page.content
    assert Customer.all_objects.filter(pk=customer.pk).exists()  # asking changes nothing

    done = admin.post(url, {"confirm": "1"}, follow=True)
    assert done.status_code == 200
    assert b'data-testid="report-result"' in done.content and b"No value left" in done.content
    assert not Customer.all_objects.filter(pk=customer.pk).exists()
    assert not Contact.all_objects.filter(customer_id=customer.pk).exists()

    listing = admin.get(reverse("privacy:list"))
    assert listing.content.count(b'data-testid="erasure-row"') == 1
    report_url = done.redirect_chain[-1][0]
    download = admin.get(report_url + "?format=json")
    assert download["Content-Disposition"].startswith("attachment;")
    assert download.json()["complete"] is True
    assert b"settings-erasures" in admin.get(reverse("company_settings")).content


def test_the_browser_refuses_non_admins_hold_and_bad_ids_with_clear_pages(tenant, records, member_client):
    customer = records.customer()
    url = reverse("privacy:erase", args=["customer", customer.pk])
    manager = member_client("manager")
    assert manager.post(url, {"confirm": "1"}).status_code == 403
    assert manager.get(reverse("privacy:list")).status_code == 403
    admin = member_client("admin")
    assert admin.get(reverse("privacy:erase", args=["ticket", 1])).status_code == 404
    assert admin.get(reverse("privacy:erase", args=["customer", 10**20])).status_code == 404
    assert admin.get(reverse("privacy:report", args=[10**20])).status_code == 404
    tenant.legal_hold = True
    tenant.save()
    held = admin.post(url, {"confirm": "1"})
    assert held.status_code == 409 and b"legal hold" in held.content
    assert Customer.all_objects.filter(pk=customer.pk).exists()


def test_another_companys_customer_cannot_be_erased_in_the_browser(tenant, other_records):
    theirs = other_records.customer()
    admin = login(make_member(tenant, "erasing-admin", role="admin"))
    assert admin.post(reverse("privacy:erase", args=["customer", theirs.pk]), {"confirm": "1"}).status_code == 404
    assert Customer.all_objects.filter(pk=theirs.pk).exists()
