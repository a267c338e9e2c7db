"""Deletion approval over the API: 202 for a delete or purge that waits, the approvals resource."""

from crm.approvals.models import ApprovalRequest
from tests.api.conftest import error_of, token_client
from tests.approvals.conftest import alive_ids, put_in_bin, requests_of
from tests.factories import make_member


def test_a_bulk_delete_above_the_threshold_is_a_202_with_the_approval(four_eyes, tenant, records, api):
    customers = [records.customer() for _ in range(3)]
    body = {"ids": [c.pk for c in customers], "reason": "Duplicates"}
    response = api.post("/api/v1/customers/bulk-delete/", body, format="json")
    [approval] = requests_of(tenant)
    assert response.status_code == 202 and response.json() == {"approval": approval.pk, "status": "pending"}
    assert approval.reason == "Duplicates" and alive_ids(tenant, customers) == {c.pk for c in customers}


def test_below_the_threshold_and_with_the_setting_off_it_deletes(tenant, records, api):
    customers = [records.customer() for _ in range(3)]
    response = api.post("/api/v1/customers/bulk-delete/", {"ids": [c.pk for c in customers]}, format="json")
    assert response.status_code == 200 and response.json()["total"] == 3


def test_a_purge_is_a_202(four_eyes, tenant, records, api):
    customer = records.customer()
    put_in_bin(records, customer)
    response = api.delete(f"/api/v1/recycle-bin/customer/{customer.pk}/")
    assert response.status_code == 202 and response.json()["status"] == "pending"
    assert requests_of(tenant)[0].kind == "purge"


def test_list_approve_and_refuse(four_eyes, tenant, records, api, second_admin):
    customers = [records.customer() for _ in range(3)]
    approval_id = api.post("/api/v1/customers/bulk-delete/", {"ids": [c.pk for c in customers]}, format="json").json()[
        "approval"
    ]
    approver = token_client(tenant, second_admin)
    [row] = approver.get("/api/v1/approvals/").json()["results"]
    assert (row["id"], row["kind"], row["count"], row["status"], row["may_decide"]) == (
        approval_id,
        "bulk_delete",
        3,
        "pending",
        True,
    )
    assert row["requested_by"] == {"id": api.user.pk, "username": api.user.username}
    assert api.get(f"/api/v1/approvals/{approval_id}/").json()["may_decide"] is False
    error = error_of(api.post(f"/api/v1/approvals/{approval_id}/approve/"), 403)
    assert "your own request" in error["message"]
    done = approver.post(f"/api/v1/approvals/{approval_id}/approve/")
    assert done.status_code == 200 and done.json()["status"] == "approved" and done.json()["batch"]
    assert alive_ids(tenant, customers) == set()
    error_of(approver.post(f"/api/v1/approvals/{approval_id}/refuse/"), 409)
    batch = done.json()["batch"]
    assert api.post("/api/v1/recycle-bin/restore/", {"batch": batch}, format="json").json()["total"] == 3


def test_refuse_over_the_api_changes_nothing(four_eyes, tenant, records, api, second_admin):
    customers = [records.customer() for _ in range(3)]
    approval_id = api.post("/api/v1/customers/bulk-delete/", {"ids": [c.pk for c in customers]}, format="json").json()[
        "approval"
    ]
    refused = token_client(tenant, second_admin).post(f"/api/v1/approvals/{approval_id}/refuse/")
    assert refused.status_code == 200 and refused.json()["status"] == "refused"
    assert alive_ids(tenant, customers) == {c.pk for c in customers}
    assert [r["id"] for r in api.get("/api/v1/approvals/", {"status": "refused"}).json()["results"]] == [approval_id]
    error_of(api.get("/api/v1/approvals/", {"status": "maybe"}), 400)


def test_roles_and_other_companies(four_eyes, tenant, records, api, other_api):
    customer = records.customer()
    put_in_bin(records, customer)
    approval_id = api.delete(f"/api/v1/recycle-bin/customer/{customer.pk}/").json()["approval"]
    manager = token_client(tenant, make_member(tenant, role="manager"))
    assert manager.get("/api/v1/approvals/").json()["results"] == []  # purges are for admins
    error_of(manager.post(f"/api/v1/approvals/{approval_id}/approve/"), 404)
    error_of(other_api.get(f"/api/v1/approvals/{approval_id}/"), 404)
    error_of(other_api.post(f"/api/v1/approvals/{approval_id}/approve/"), 404)
    rep = token_client(tenant, make_member(tenant, role="rep"))
    error_of(rep.post(f"/api/v1/approvals/{approval_id}/refuse/"), 404)
    assert ApprovalRequest.all_objects.get(pk=approval_id).status == "pending"
