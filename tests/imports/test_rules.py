"""What an import does with each line: encodings, mapping, modes, duplicates, references, history, audit."""

import pytest
from django.core.exceptions import PermissionDenied

from audit.models import AuditEvent
from crm.tenancy.context import activate
from customers.models import Contact, Customer
from imports import actions
from imports.models import Import, ImportRow
from imports.specs import SPECS, suggest
from sales.models import Opportunity
from tests.factories import make_member
from tests.imports.helpers import csv_bytes, xlsx_bytes

pytestmark = pytest.mark.django_db


def preview(tenant, user, content, record_type="customers", mode="create", mapping=None, name="f.csv"):
    with activate(tenant, user=user):
        job = actions.upload(content, name, record_type, mode=mode, mapping=mapping, acting_user=user)
        return actions.preview(job, acting_user=user)


def outcomes(job):
    rows = ImportRow.all_objects.filter(tenant_id=job.tenant_id, batch=job).order_by("line")
    return [(row.line, row.outcome, row.reason) for row in rows]


def run(tenant, user, job):
    with activate(tenant, user=user):
        return actions.run(job, acting_user=user)


def test_headers_in_chinese_and_english_suggest_the_mapping():
    headers = ["客户名称", "邮箱", "电话", "负责人", "行业", "备注", "Unknown"]
    assert suggest(SPECS["customer"], headers) == {
        "客户名称": "name",
        "邮箱": "email",
        "电话": "phone",
        "负责人": "owner",
        "行业": "industry",
        "备注": "notes",
    }
    assert suggest(SPECS["contact"], ["客户", "联系人", "职位", "E-mail"]) == {
        "客户": "customer",
        "联系人": "name",
        "职位": "title",
        "E-mail": "email",
    }


def test_the_company_remembers_a_mapping_for_its_next_file(tenant, admin_user):
    content = csv_bytes([["Firma", "Kontakt"], ["Acme", "a@example.com"]])
    with activate(tenant, user=admin_user):
        job = actions.upload(content, "f.csv", "customers", acting_user=admin_user)
        assert job.mapping == {}
        actions.set_mapping(job, {"Firma": "name", "Kontakt": "email"}, "create", acting_user=admin_user)
        again = actions.upload(content, "g.csv", "customers", acting_user=admin_user)
    assert again.mapping == {"Firma": "name", "Kontakt": "email"}


@pytest.mark.parametrize(
    ("content", "name", "encoding"),
    [
        (csv_bytes([["客户名称", "邮箱"], ["深圳华强", "hq@example.com"]], "gbk"), "f.csv", "gb18030"),
        (csv_bytes([["客户名称", "邮箱"], ["深圳华强", "hq@example.com"]], "gb18030"), "f.csv", "gb18030"),
        ("\ufeff".encode() + csv_bytes([["客户名称", "邮箱"], ["深圳华强", "hq@example.com"]]), "f.csv", "utf-8-sig"),
        (xlsx_bytes([["客户名称", "邮箱"], ["深圳华强", "hq@example.com"]]), "f.xlsx", ""),
    ],
)
def test_gbk_utf8_with_bom_and_xlsx_read_the_same(tenant, admin_user, content, name, encoding):
    job = preview(tenant, admin_user, content, name=name)
    assert (job.encoding, job.headers, job.mapping) == (
        encoding,
        ["客户名称", "邮箱"],
        {"客户名称": "name", "邮箱": "email"},
    )
    run(tenant, admin_user, job)
    with activate(tenant):
        assert list(Customer.objects.values_list("name", "email")) == [("深圳华强", "hq@example.com")]


def test_duplicates_in_the_file_and_against_existing_records(tenant, admin_user, records):
    records.customer(name="Existing Ltd", email="old@example.com", phone="138-0000-0001")
    content = csv_bytes(
        [
            ["Name", "Email", "Phone"],
            ["New One", "new@example.com", ""],
            ["Again", "NEW@example.com ", ""],  # the same email, another case
            ["Other Name", "", "13800000001"],  # the existing phone, other punctuation
            ["existing  ltd", "", ""],  # the existing name, other case and spacing
            ["Fresh", "fresh@example.com", "138 0000 0002"],
            ["Fresh copy", "", "(138) 0000-0002"],
        ]
    )
    job = preview(tenant, admin_user, content)
    assert [(line, outcome) for line, outcome, _reason in outcomes(job)] == [
        (2, "create"),
        (3, "skip"),
        (4, "skip"),
        (5, "skip"),
        (6, "create"),
        (7, "skip"),
    ]
    reasons = {line: reason for line, _outcome, reason in outcomes(job)}
    assert reasons[3] == "Same email as line 2."
    assert reasons[4].startswith("Already exists: customer #") and reasons[4].endswith("(same phone).")
    assert reasons[5].endswith("(same name).")


def test_the_modes_create_update_and_upsert(tenant, admin_user, records):
    acme = records.customer(name="Acme", email="acme@example.com", industry="Old", phone="")
    content = csv_bytes(
        [["Name", "Email", "Industry"], ["Acme", "acme@example.com", "Robots"], ["Newco", "newco@example.com", "Food"]]
    )
    created = preview(tenant, admin_user, content, mode="create")
    assert [outcome for _l, outcome, _r in outcomes(created)] == ["skip", "create"]
    updated = preview(tenant, admin_user, content, mode="update")
    assert [outcome for _l, outcome, _r in outcomes(updated)] == ["update", "skip"]
    assert outcomes(updated)[0][2] == f"Updates industry of customer #{acme.pk}."
    upserted = preview(tenant, admin_user, content, mode="upsert")
    assert [outcome for _l, outcome, _r in outcomes(upserted)] == ["update", "create"]
    run(tenant, admin_user, upserted)
    acme.refresh_from_db()
    assert acme.industry == "Robots"
    assert acme.history.first().history_change_reason == "imported"
    with activate(tenant):
        event = AuditEvent.objects.get(action=AuditEvent.Action.IMPORT)
        assert (event.count, event.detail["created"], event.detail["updated"]) == (2, 1, 1)
        assert "Acme" not in str(event.detail)  # ids and counts, never values


def test_unknown_owners_and_bad_values_are_row_errors_never_blanks(tenant, admin_user):
    make_member(tenant, "bob", role="rep")
    content = csv_bytes(
        [
            ["Name", "Owner", "Tier", "Email"],
            ["A", "bob", "A", ""],
            ["B", "nobody", "B", ""],
            ["C", "alice", "Z", ""],
            ["D", "", "", "not-an-email"],
            ["", "alice", "", ""],
        ]
    )
    job = preview(tenant, admin_user, content)
    got = outcomes(job)
    assert [outcome for _l, outcome, _r in got] == ["create", "error", "error", "error", "error"]
    assert "Unknown owner “nobody”" in got[1][2]
    assert "“Z” is not a valid tier." in got[2][2]
    assert "email" in got[3][2]
    assert got[4][2] == "Required: name."
    run(tenant, admin_user, job)
    with activate(tenant):
        assert list(Customer.objects.values_list("name", "owner__username", "tier")) == [("A", "bob", "A")]


def test_contacts_and_opportunities_find_their_customer_by_name_email_or_id(tenant, admin_user, records):
    acme = records.customer(name="Acme", email="acme@example.com")
    records.customer(name="Twin", email="t1@example.com")
    records.customer(name="Twin", email="t2@example.com")
    content = csv_bytes(
        [
            ["客户", "联系人", "邮箱"],
            ["Acme", "Ann", "ann@example.com"],
            ["acme@example.com", "Ben", ""],
            [f"#{acme.pk}", "Cy", ""],
            ["Twin", "Dee", ""],
            ["Nobody Inc", "Eve", ""],
        ]
    )
    job = preview(tenant, admin_user, content, record_type="contacts")
    got = outcomes(job)
    assert [outcome for _l, outcome, _r in got] == ["create", "create", "create", "error", "error"]
    assert got[3][2] == "Several customers are named “Twin”: give its id or email."
    assert got[4][2] == "Unknown customer “Nobody Inc”."
    run(tenant, admin_user, job)
    with activate(tenant):
        assert sorted(Contact.objects.filter(customer=acme).values_list("name", flat=True)) == ["Ann", "Ben", "Cy"]
    deals = csv_bytes(
        [
            ["Customer", "商机名称", "金额", "阶段", "预计成交日期"],
            ["Acme", "Big deal", "12,500.50", "Proposal", "2027/03/01"],
        ]
    )
    job = preview(tenant, admin_user, deals, record_type="opportunities")
    assert [outcome for _l, outcome, _r in outcomes(job)] == ["create"], outcomes(job)
    run(tenant, admin_user, job)
    with activate(tenant):
        deal = Opportunity.objects.get()
    assert (str(deal.amount), deal.stage, str(deal.expected_close_date), deal.owner) == (
        "12500.50",
        "proposal",
        "2027-03-01",
        admin_user,
    )


def test_revert_sends_the_created_to_the_bin_as_one_batch_and_puts_fields_back(tenant, admin_user, records):
    acme = records.customer(name="Acme", email="acme@example.com", industry="Old")
    content = csv_bytes(
        [
            ["Name", "Email", "Industry"],
            ["Acme", "acme@example.com", "New"],
            ["B", "b@example.com", ""],
            ["C", "c@example.com", ""],
        ]
    )
    job = run(tenant, admin_user, preview(tenant, admin_user, content, mode="upsert"))
    with activate(tenant, user=admin_user):
        actions.revert(job, acting_user=admin_user)
        assert list(Customer.objects.values_list("name", flat=True)) == ["Acme"]
        assert Customer.deleted.values("deletion_batch").distinct().count() == 1
        event = AuditEvent.objects.get(action=AuditEvent.Action.IMPORT_REVERTED)
    acme.refresh_from_db()
    assert acme.industry == "Old"
    assert acme.history.first().history_change_reason == "import reverted"
    job.refresh_from_db()
    assert (job.status, event.batch, event.detail["counts"], event.detail["put_back"]) == (
        Import.Status.REVERTED,
        job.revert_batch,
        {"customer": 2},
        1,
    )
    # Undo like any delete: the batch comes back from the recycle bin.
    from crm.recyclebin.actions import restore_batch

    with activate(tenant, user=admin_user):
        restore_batch(job.revert_batch, acting_user=admin_user)
        assert Customer.objects.count() == 3


def test_revert_refuses_with_a_list_when_a_record_changed_since(tenant, admin_user, records):
    acme = records.customer(name="Acme", email="acme@example.com", industry="Old")
    content = csv_bytes(
        [["Name", "Email", "Industry"], ["Acme", "acme@example.com", "New"], ["B", "b@example.com", ""]]
    )
    job = run(tenant, admin_user, preview(tenant, admin_user, content, mode="upsert"))
    from customers.actions import update_customer

    with activate(tenant, user=admin_user):
        update_customer(Customer.objects.get(pk=acme.pk), notes="Called them", acting_user=admin_user)
        with pytest.raises(actions.ActionConflict) as refused:
            actions.revert(job, acting_user=admin_user)
        assert Customer.objects.count() == 2
    assert f"#{acme.pk} Acme" in str(refused.value)
    assert refused.value.code == "changed_since"
    job.refresh_from_db()
    assert job.status == Import.Status.DONE


def test_who_may_import_and_revert(tenant, admin_user, records):
    viewer, rep = make_member(tenant, "vic", role="viewer"), make_member(tenant, "rex", role="rep")
    content = csv_bytes([["Name"], ["Acme"]])
    with activate(tenant, user=viewer), pytest.raises(PermissionDenied):
        actions.upload(content, "f.csv", "customers", acting_user=viewer)
    theirs = records.customer(name="Theirs", email="theirs@example.com")  # the admin's: a rep cannot change it
    job = preview(
        tenant, rep, csv_bytes([["Name", "Email", "Notes"], ["Theirs", "theirs@example.com", "x"]]), mode="update"
    )
    assert outcomes(job)[0][1:] == ("error", f"You may not change customer #{theirs.pk}.")
    mine = run(tenant, admin_user, preview(tenant, admin_user, content))
    with activate(tenant, user=rep), pytest.raises(PermissionDenied):
        actions.revert(mine, acting_user=rep)


def test_possible_duplicates_can_be_created_anyway_with_a_flag(tenant, admin_user, records):
    old = records.customer(name="Acme", email="acme@example.com", phone="010-1234567")
    content = csv_bytes(
        [
            ["Name", "Email", "Phone"],
            ["ACME", "", ""],  # the same name: created, flagged
            ["Acme Two", "", "(010) 1234567"],  # the same phone: created, flagged
            ["Acme Three", "acme@example.com", ""],  # the same email: never twice
        ]
    )
    with activate(tenant, user=admin_user):
        job = actions.upload(content, "f.csv", "customers", allow_duplicates=True, acting_user=admin_user)
        job = actions.preview(job, acting_user=admin_user)
    got = outcomes(job)
    assert [outcome for _l, outcome, _r in got] == ["create", "create", "skip"]
    assert (
        got[0][2]
        == f"Possible duplicate of customer #{old.pk} (same name): created anyway, tagged “possible duplicate”."
    )
    run(tenant, admin_user, job)
    with activate(tenant):
        flagged = Customer.objects.filter(tags__contains=["possible duplicate"])
        assert sorted(flagged.values_list("name", flat=True)) == ["ACME", "Acme Two"]


def test_tickets_import_too_with_their_assignee_and_due_time(tenant, admin_user, records):
    acme = records.customer(name="Acme", email="acme@example.com")
    make_member(tenant, "sam", role="support")
    content = csv_bytes(
        [
            ["客户", "主题", "优先级", "处理人", "截止时间"],
            ["Acme", "Printer on fire", "紧急", "sam", "2027-01-05 09:30"],
            ["Acme", "printer on FIRE", "", "", ""],
        ]
    )
    job = preview(tenant, admin_user, content, record_type="tickets")
    assert job.mapping == {
        "客户": "customer",
        "主题": "subject",
        "优先级": "priority",
        "处理人": "assignee",
        "截止时间": "due_at",
    }
    assert [outcome for _l, outcome, _r in outcomes(job)] == ["create", "skip"]
    run(tenant, admin_user, job)
    from customers.models import Ticket

    with activate(tenant):
        ticket = Ticket.objects.get()
    assert (ticket.customer, ticket.priority, ticket.assignee.username) == (acme, "urgent", "sam")
    assert ticket.due_at.isoformat().startswith("2027-01-05T")


def test_once_written_an_import_keeps_only_what_revert_and_the_failed_rows_need(tenant, admin_user, records):
    records.customer(name="Acme", email="acme@example.com", industry="Old")
    content = csv_bytes(
        [
            ["Name", "Email", "Industry"],
            ["Acme", "acme@example.com", "New"],
            ["B", "b@example.com", ""],
            ["", "x@example.com", ""],
        ]
    )
    job = run(tenant, admin_user, preview(tenant, admin_user, content, mode="upsert"))
    job.refresh_from_db()
    assert bytes(job.content) == b""
    rows = ImportRow.all_objects.filter(batch=job).order_by("line")
    assert [(row.outcome, row.values, row.cells) for row in rows] == [
        ("update", {}, []),
        ("create", {}, []),
        ("error", {}, ["", "x@example.com", ""]),
    ]
    assert rows[0].before == {"industry": "Old"}
