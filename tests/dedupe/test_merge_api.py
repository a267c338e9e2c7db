"""POST /api/v1/customers/{id}/merge/ (and contacts): the ids to merge in and the field choices;
an id of another company, of a record the caller cannot see, or of none at all is the same 404."""

import pytest

from customers.merges import Merge
from customers.models import Contact, Customer
from tests.api.conftest import error_of, token_client
from tests.factories import RecordMaker, make_member

pytestmark = pytest.mark.usefixtures("in_tenant")


def test_merge_and_undo_through_the_api(tenant, admin_user, records):
    survivor = records.customer(name="Keep", email="keep@example.com")
    dupe = records.customer(name="Dupe", email="dupe@example.com", industry="Steel")
    contact = records.contact(dupe)
    api = token_client(tenant, admin_user)
    response = api.post(
        f"/api/v1/customers/{survivor.pk}/merge/", {"merge": [dupe.pk], "fields": {"industry": dupe.pk}}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["survivor"] == survivor.pk and body["merged"] == [dupe.pk] and body["moved"] == 1
    assert Customer.objects.get(pk=survivor.pk).industry == "Steel"
    assert Contact.objects.get(pk=contact.pk).customer_id == survivor.pk
    undone = api.post(f"/api/v1/customers/{survivor.pk}/merges/{body['id']}/undo/")
    assert undone.status_code == 200 and undone.json()["undone_at"]
    assert Contact.objects.get(pk=contact.pk).customer_id == dupe.pk
    assert Customer.objects.get(pk=survivor.pk).industry == ""
    conflict = error_of(api.post(f"/api/v1/customers/{survivor.pk}/merges/{body['id']}/undo/"), 409)
    assert conflict["code"] == "merge_conflict"


def test_ids_of_another_company_or_invisible_or_missing_are_the_same_404(tenant, records, other_records):
    rep = make_member(tenant, "remy", role="rep")
    mine = RecordMaker(tenant, rep).customer(name="Mine")
    invisible = records.customer(name="Someone else's")
    foreign = other_records.customer(name="Other company")
    api = token_client(tenant, rep)
    messages = set()
    for pk in (invisible.pk, foreign.pk, 10**12):
        error = error_of(api.post(f"/api/v1/customers/{mine.pk}/merge/", {"merge": [pk]}, format="json"), 404)
        messages.add(error["message"].replace(str(pk), "ID"))
    assert len(messages) == 1
    error_of(api.post(f"/api/v1/customers/{invisible.pk}/merge/", {"merge": [mine.pk]}, format="json"), 404)
    assert not Merge.objects.exists()
    assert Customer.objects.filter(pk__in=[mine.pk, invisible.pk]).count() == 2


def test_bad_bodies_are_400s(tenant, admin_user, records):
    survivor, dupe = records.customer(), records.customer()
    api = token_client(tenant, admin_user)
    url = f"/api/v1/customers/{survivor.pk}/merge/"
    error_of(api.post(url, {"merge": []}, format="json"), 400)
    error_of(api.post(url, {"merge": ["x"]}, format="json"), 400)
    error_of(api.post(url, {"merge": [survivor.pk]}, format="json"), 400)
    error = error_of(api.post(url, {"merge": [dupe.pk], "fields": {"version": dupe.pk}}, format="json"), 400)
    assert "version" in error["fields"]
    error = error_of(api.post(url, {"merge": [dupe.pk], "fields": {"name": 999999}}, format="json"), 400)
    assert "name" in error["fields"]
    assert not Merge.objects.exists()


def test_a_viewer_may_not_merge(tenant, records):
    viewer = make_member(tenant, "vera", role="viewer")
    survivor, dupe = records.customer(), records.customer()
    api = token_client(tenant, viewer)
    error_of(api.post(f"/api/v1/customers/{survivor.pk}/merge/", {"merge": [dupe.pk]}, format="json"), 403)


def test_contacts_merge_through_the_api(tenant, admin_user, records):
    customer = records.customer()
    keep, dupe = records.contact(customer, name="Kim"), records.contact(customer, name="Kim", phone="555 0199")
    api = token_client(tenant, admin_user)
    response = api.post(
        f"/api/v1/contacts/{keep.pk}/merge/", {"merge": [dupe.pk], "fields": {"phone": dupe.pk}}, format="json"
    )
    assert response.status_code == 201, response.content
    assert Contact.objects.get(pk=keep.pk).phone == "555 0199"


def test_the_check_before_saving_over_the_api(tenant, admin_user, records):
    from tests.factories import make_member as member

    owner = member(tenant, "otto", role="rep")
    theirs = RecordMaker(tenant, owner).customer(name="Hidden Ltd", phone="+86 21 6666 0100")
    rep = member(tenant, "rick", role="rep")
    api = token_client(tenant, rep)
    response = api.get("/api/v1/customers/duplicates/", {"name": "hidden  LTD", "phone": "+86 21 6666-0100"})
    assert response.status_code == 200, response.content
    rows = response.json()
    assert {row["key"] for row in rows} == {"name", "phone"}
    assert all(row["id"] is None and row["name"] is None and row["owner"] == "otto" for row in rows)
    assert all(row["rule"] == "warn" for row in rows)
    seen = token_client(tenant, admin_user).get("/api/v1/customers/duplicates/", {"name": "Hidden Ltd"}).json()
    assert [(row["id"], row["name"], row["visible"]) for row in seen] == [(theirs.pk, "Hidden Ltd", True)]
    editing = {"name": "Hidden Ltd", "exclude": theirs.pk}
    assert token_client(tenant, admin_user).get("/api/v1/customers/duplicates/", editing).json() == []


def test_the_contact_check_needs_a_customer_the_caller_sees(tenant, admin_user, records):
    customer = records.customer()
    records.contact(customer, name="Dana", email="dana@example.com")
    api = token_client(tenant, admin_user)
    rows = api.get("/api/v1/contacts/duplicates/", {"customer": customer.pk, "email": "DANA@example.com"}).json()
    assert [(row["key"], row["rule"]) for row in rows] == [("email", "block")]
    error_of(api.get("/api/v1/contacts/duplicates/", {"email": "dana@example.com"}), 404)
    error_of(api.get("/api/v1/contacts/duplicates/", {"customer": "x"}), 400)
