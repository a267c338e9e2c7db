"""Every list page exports what its filters show, as CSV or XLSX, for what the user may see."""

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from crm.tenancy.context import activate
from customers.actions import share_customer
from tests.conftest import login
from tests.exports.conftest import body, csv_rows, xlsx_rows
from tests.factories import make_member

LISTS = {
    "customer": ("customers:list", "name"),
    "contact": ("customers:contact_list", "name"),
    "interaction": ("customers:interaction_list", "summary"),
    "ticket": ("tickets:list", "subject"),
    "opportunity": ("sales:list", "name"),
}


@pytest.fixture
def admin(admin_user):
    return login(admin_user)


def export(client, url_name, fmt="csv", **filters):
    return client.get(reverse(url_name), {**filters, "export": fmt})


@pytest.mark.parametrize("record_type", sorted(LISTS))
def test_each_list_exports_every_row_its_filters_select_not_just_a_page(records, admin, record_type, events):
    url_name, label = LISTS[record_type]
    customer = records.customer(name="Initech")
    for _ in range(30):  # more than a page
        records.any(record_type, **({} if record_type == "customer" else {"customer": customer}))
    response = export(admin, url_name)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment; filename=")
    rows = csv_rows(response)
    assert len(rows) == (31 if record_type == "customer" else 30)
    assert label in rows[0] and "id" in rows[0]
    [event] = events()
    assert (event.object_type, event.count, event.detail["what"]) == (record_type, len(rows), "list")


def test_the_customer_export_follows_the_filters_and_names_them_in_the_audit_event(records, admin, events):
    records.customer(name="Acme Shanghai", status="active")
    records.customer(name="Acme Beijing", status="lead")
    records.customer(name="Globex", status="active")
    rows = csv_rows(export(admin, "customers:list", q="Acme", status="active", sort="name"))
    assert [row["name"] for row in rows] == ["Acme Shanghai"]
    [event] = events()
    assert event.count == 1
    assert event.detail["filters"] == ["q", "sort", "status"]
    assert "Acme" not in str(event.detail)  # the filters' names, never their values


def test_the_export_keeps_the_lists_order(records, admin):
    for name in ("Charlie", "Alpha", "Bravo"):
        records.customer(name=name)
    assert [row["name"] for row in csv_rows(export(admin, "customers:list", sort="-name"))] == [
        "Charlie",
        "Bravo",
        "Alpha",
    ]


def test_a_rep_exports_only_their_own_and_shared_customers(tenant, records, events):
    rep = make_member(tenant, "rita", role="rep")
    records.customer(name="Mine", owner=rep)
    shared = records.customer(name="Shared with me")
    records.customer(name="Not mine")
    with activate(tenant, user=records.actor, process="tests"):
        share_customer(shared, rep, acting_user=records.actor)
    rows = csv_rows(export(login(rep), "customers:list"))
    assert sorted(row["name"] for row in rows) == ["Mine", "Shared with me"]
    assert events()[-1].actor == rep and events()[-1].count == 2


def test_a_rep_exports_only_the_contacts_of_customers_they_see(tenant, records):
    rep = make_member(tenant, "rita", role="rep")
    records.contact(records.customer(owner=rep), name="Visible")
    records.contact(records.customer(), name="Hidden")
    assert [row["name"] for row in csv_rows(export(login(rep), "customers:contact_list"))] == ["Visible"]


def test_chinese_text_survives_and_formulas_are_neutralised(records, admin):
    records.customer(name="上海华为技术有限公司", phone="+86 21 5555 0100", notes='=HYPERLINK("http://evil")')
    records.customer(name="@SUM(A1:A9)", notes="-2+3")
    rows = {row["name"]: row for row in csv_rows(export(admin, "customers:list"))}
    assert rows["上海华为技术有限公司"]["phone"] == "'+86 21 5555 0100"
    assert rows["上海华为技术有限公司"]["notes"] == '\'=HYPERLINK("http://evil")'
    assert "'@SUM(A1:A9)" in rows and rows["'@SUM(A1:A9)"]["notes"] == "'-2+3"


def test_xlsx_opens_in_openpyxl_with_typed_numbers_and_no_formulas(records, admin, events):
    customer = records.customer(name="=1+1 Ltd")
    records.opportunity(customer, name="Big deal", amount="1234.50")
    rows = xlsx_rows(export(admin, "sales:list", fmt="xlsx"))
    assert rows[0]["name"] == "Big deal"
    assert float(rows[0]["amount"]) == 1234.5
    assert rows[0]["customer"] == "'=1+1 Ltd"  # text, not a formula
    assert events()[-1].detail["format"] == "xlsx"


def test_the_recycle_bin_exports_its_filtered_entries(records, admin, events):
    from crm.recyclebin.actions import delete
    from customers.models import Customer

    kept, gone, other = records.customer(name="Kept"), records.customer(name="Gone"), records.customer(name="Other")
    records.contact(gone, name="Goes with it")
    with activate(records.tenant, user=records.actor, process="tests"):
        delete(Customer.objects.filter(pk=gone.pk), acting_user=records.actor)
        delete(Customer.objects.filter(pk=other.pk), acting_user=records.actor)
    rows = csv_rows(admin.get(reverse("bin:list"), {"export": "csv"}))
    assert sorted((row["type"], row["label"]) for row in rows) == [
        ("contact", "Goes with it"),
        ("customer", "Gone"),
        ("customer", "Other"),
    ]
    assert rows[0]["deleted_by"] == records.actor.username
    filtered = csv_rows(admin.get(reverse("bin:list"), {"export": "csv", "type": "contact"}))
    assert [row["label"] for row in filtered] == ["Goes with it"]
    assert kept.name not in str(rows)
    event = events()[-1]
    assert (event.object_type, event.count, event.detail["filters"]) == ("recycle_bin", 1, ["type"])


def test_a_rep_exports_only_their_own_bin(tenant, records):
    from crm.recyclebin.actions import delete
    from customers.models import Customer

    rep = make_member(tenant, "rita", role="rep")
    mine, theirs = records.customer(name="Mine", owner=rep), records.customer(name="Theirs")
    with activate(tenant, user=rep, process="tests"):
        delete(Customer.objects.filter(pk=mine.pk), acting_user=rep)
    with activate(tenant, user=records.actor, process="tests"):
        delete(Customer.objects.filter(pk=theirs.pk), acting_user=records.actor)
    rows = csv_rows(login(rep).get(reverse("bin:list"), {"export": "csv"}))
    assert [row["label"] for row in rows] == ["Mine"]


def test_support_may_not_export_opportunities(tenant, records, events):
    records.opportunity()
    response = export(login(make_member(tenant, "sam", role="support")), "sales:list")
    assert response.status_code == 403
    assert events() == []


def test_an_unknown_format_or_bad_filters_go_back_to_the_list_with_a_message(records, admin, events):
    response = export(admin, "customers:list", fmt="pdf", status="active")
    assert response.status_code == 302
    assert response["Location"] == reverse("customers:list") + "?status=active"
    page = admin.get(response["Location"])
    assert "Choose CSV or Excel (XLSX) to export." in page.content.decode()
    response = export(admin, "customers:list", status="no-such-status")
    assert response.status_code == 302
    assert events() == []


def test_another_companys_rows_never_appear(records, other_records, admin):
    other_records.customer(name="Beta's customer")
    records.customer(name="Ours")
    assert [row["name"] for row in csv_rows(export(admin, "customers:list"))] == ["Ours"]


def test_an_export_of_nothing_is_a_header_only(admin, records, events):
    data = body(export(admin, "customers:list", q="nobody"))
    assert data.startswith(b"\xef\xbb\xbfid,")
    assert data.count(b"\n") == 1
    assert events()[-1].count == 0


def test_the_list_pages_show_the_export_buttons(records, admin):
    for url_name, _label in LISTS.values():
        html = admin.get(reverse(url_name), {"status": ""}).content.decode()
        assert 'data-testid="export-csv"' in html, url_name
    assert 'data-testid="export-xlsx"' in admin.get(reverse("bin:list")).content.decode()


def test_the_audit_event_is_an_export(records, admin):
    records.customer()
    export(admin, "customers:list")
    assert AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).count() == 1


def test_a_queryset_that_can_match_nothing_exports_the_header_alone(records, in_tenant):
    from crm.exports.lists import list_response
    from customers.models import Customer

    records.customer()
    response = list_response(Customer.objects.none(), fmt="csv", filters=[], acting_user=None)
    assert csv_rows(response) == []
