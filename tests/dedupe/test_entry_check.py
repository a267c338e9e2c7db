"""The duplicate check at entry (查重): matches are shown before saving; the company chooses,
per key, whether a match only warns (save after confirming) or blocks the save."""

import pytest
from django.urls import reverse

from crm.tenancy.actions import update_tenant_settings
from customers import duplicates
from customers.models import Contact, Customer
from imports.specs import SPECS
from tests.api.conftest import error_of, token_client
from tests.conftest import login
from tests.factories import RecordMaker, make_member

CREATE = reverse("customers:create")
NEW = {"kind": "company", "tier": "C", "status": "lead"}


def set_policy(tenant, **rules):
    update_tenant_settings(tenant, acting_user=None, **{f"duplicate_{kind}": rule for kind, rule in rules.items()})


def test_one_normalisation_email_any_case_phone_digits_name_spacing():
    assert duplicates.normalise("email", "  Ann@Example.COM ") == "ann@example.com"
    assert duplicates.normalise("phone", "+86 (21) 5555-0100") == "862155550100"
    assert duplicates.normalise("phone", "12-34") == ""  # fewer than five digits: no key
    assert duplicates.normalise("name", "  Acme   trading ") == "ACME TRADING"


def test_the_importer_finds_duplicates_with_the_same_lookup(tenant, records):
    from imports.plan import Planner

    assert Planner._existing.__doc__ and "customers.duplicates" in Planner._existing.__doc__
    customer = records.customer(name="Acme  Trading", phone="+86 21 5555 0100")
    from crm.tenancy.context import activate

    with activate(tenant, process="tests"):
        found = duplicates.find(
            Customer.objects.all(), [("phone", None, "862155550100"), ("name", None, "ACME  TRADING")]
        )
    assert found == {("phone", None, "862155550100"): [customer.pk], ("name", None, "ACME  TRADING"): [customer.pk]}
    assert SPECS["customer"].keys == ("email", "phone", "name")


def test_a_visible_match_is_shown_with_its_name_and_saving_needs_confirmation(tenant, records, admin_user):
    existing = records.customer(name="Acme Trading", phone="021 5555 0100")
    client = login(admin_user)
    response = client.post(CREATE, {**NEW, "name": "acme   trading", "phone": "+86 21 5555-0100"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "may already exist" in page and "Acme Trading" in page and f"#{existing.pk}" in page
    assert 'name="save_duplicate"' in page and 'type="checkbox"' in page
    assert Customer.all_objects.filter(tenant=tenant).count() == 1
    confirmed = client.post(CREATE, {**NEW, "name": "acme   trading", "phone": "", "save_duplicate": "on"})
    assert confirmed.status_code == 302
    assert Customer.all_objects.filter(tenant=tenant).count() == 2


def test_a_match_the_rep_cannot_see_shows_only_that_it_exists_and_its_owner(tenant, records):
    owner = make_member(tenant, "olga", role="rep")
    RecordMaker(tenant, owner).customer(name="Secret Holdings", phone="13800138000", notes="private")
    rep = make_member(tenant, "ralf", role="rep")
    page = login(rep).post(CREATE, {**NEW, "name": "Secret Holdings", "phone": "138-0013-8000"}).content.decode()
    assert "A customer with the same name exists, owned by olga." in page
    assert "A customer with the same phone exists, owned by olga." in page
    assert "13800138000" not in page.replace('value="138-0013-8000"', "") and "private" not in page


def test_block_refuses_the_save_on_the_field_even_when_confirmed(tenant, records, admin_user):
    set_policy(tenant, phone="block")
    records.customer(name="First", phone="555 0100")
    client = login(admin_user)
    response = client.post(CREATE, {**NEW, "name": "Second", "phone": "5550100", "save_duplicate": "on"})
    assert response.status_code == 200
    assert "Same phone as customer “First”" in response.context["form"].errors["phone"][0]
    assert Customer.all_objects.filter(tenant=tenant).count() == 1


def test_editing_checks_only_the_keys_that_change(tenant, records, admin_user):
    set_policy(tenant, name="block")
    records.customer(name="Twin")
    other = records.customer(name="Other")
    client = login(admin_user)
    edit = reverse("customers:edit", args=[other.pk])
    data = {**NEW, "name": "Other", "email": other.email, "owner": admin_user.pk, "version": other.version}
    assert client.post(edit, {**data, "industry": "Steel"}).status_code == 302
    response = client.post(edit, {**data, "name": "twin", "version": other.version + 1})
    assert response.status_code == 200 and "name" in response.context["form"].errors


def test_the_api_is_refused_on_a_blocked_key_and_not_on_a_warned_one(tenant, records, admin_user):
    set_policy(tenant, name="block", phone="warn")
    records.customer(name="Blocked Name", phone="400 800 1234")
    api = token_client(tenant, admin_user)
    error = error_of(api.post("/api/v1/customers/", {"name": "blocked name"}, format="json"), 400)
    assert "name" in error["fields"]
    assert api.post("/api/v1/customers/", {"name": "Fine", "phone": "4008001234"}, format="json").status_code == 201


def test_contacts_are_checked_within_their_customer(tenant, records, admin_user):
    customer = records.customer()
    records.contact(customer, name="Pat Lee", email="pat@example.com")
    other_customer = records.customer()
    client = login(admin_user)
    url = reverse("customers:contact_create", args=[customer.pk])
    blocked = client.post(url, {"name": "Someone", "email": "PAT@example.com"})  # email: blocked by default
    assert blocked.status_code == 200 and "email" in blocked.context["form"].errors
    warned = client.post(url, {"name": "pat  lee"})
    assert warned.status_code == 200 and "may already exist" in warned.content.decode()
    elsewhere = client.post(reverse("customers:contact_create", args=[other_customer.pk]), {"name": "Pat Lee"})
    assert elsewhere.status_code == 302
    assert Contact.all_objects.filter(tenant=tenant).count() == 2


def test_the_setting_is_on_the_company_settings_page_and_audited(tenant, admin_user):
    from audit.models import AuditEvent

    client = login(admin_user)
    page = client.get(reverse("company_settings")).content.decode()
    assert 'name="duplicate_phone"' in page
    response = client.post(reverse("company_settings"), {"retention_days": "30", "duplicate_phone": "block"})
    assert response.status_code == 302
    tenant.refresh_from_db()
    assert (tenant.duplicate_email, tenant.duplicate_phone, tenant.duplicate_name) == ("block", "block", "warn")
    event = AuditEvent.objects.filter(tenant=tenant, action="settings").latest("seq")
    assert event.detail == {"duplicate_phone": "block"}


@pytest.mark.parametrize("value", ["sometimes", "\x00"])
def test_an_unknown_setting_is_a_form_error(tenant, admin_user, value):
    response = login(admin_user).post(reverse("company_settings"), {"retention_days": "30", "duplicate_name": value})
    assert response.status_code == 200 and "duplicate_name" in response.context["form"].errors
