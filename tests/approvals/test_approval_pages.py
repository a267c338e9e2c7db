"""Deletion approval in the browser: asking from the confirmation page, the approvals list, answering, the setting."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from crm.approvals.models import ApprovalPolicy, ApprovalRequest
from crm.tenancy.context import activate
from tests.approvals.conftest import alive_ids, put_in_bin, requests_of
from tests.conftest import login
from tests.factories import make_member


def ask_in_browser(client, customers, reason="Old test data"):
    ids = ",".join(str(c.pk) for c in customers)
    return client.post(reverse("bin:delete", args=["customer"]), {"ids": ids, "confirm": "1", "reason": reason})


def test_the_confirmation_page_asks_for_a_reason_above_the_threshold(four_eyes, records, admin_user):
    customers = [records.customer() for _ in range(3)]
    client = login(admin_user)
    page = client.post(reverse("bin:delete", args=["customer"]), {"ids": [c.pk for c in customers]}).content.decode()
    assert 'data-testid="approval-reason"' in page and "Ask for approval" in page
    assert "A second person must approve this first" in page
    two = client.post(reverse("bin:delete", args=["customer"]), {"ids": [c.pk for c in customers[:2]]})
    assert 'data-testid="approval-reason"' not in two.content.decode()


def test_asking_deletes_nothing_and_shows_the_request_in_the_list(four_eyes, tenant, records, admin_user):
    customers = [records.customer() for _ in range(3)]
    client = login(admin_user)
    response = ask_in_browser(client, customers)
    assert response.status_code == 302 and response.url == reverse("approvals:list")
    page = client.get(response.url).content.decode()
    [approval] = requests_of(tenant)
    assert "your request waits for a second person&#x27;s approval" in page
    assert f'data-pk="{approval.pk}" data-status="pending"' in page and "Old test data" in page
    assert 'data-testid="approval-approve"' not in page  # not for their own request
    assert alive_ids(tenant, customers) == {c.pk for c in customers}


def test_a_too_long_reason_is_a_clear_400(four_eyes, tenant, records, admin_user):
    customers = [records.customer() for _ in range(3)]
    response = ask_in_browser(login(admin_user), customers, reason="x" * 1001)
    assert response.status_code == 400 and "at most 1000 characters" in response.content.decode()
    assert requests_of(tenant) == []


def test_another_admin_approves_from_the_list_and_the_requester_is_told(
    four_eyes, tenant, records, admin_user, second_admin, django_capture_on_commit_callbacks
):
    customers = [records.customer() for _ in range(3)]
    requester = login(admin_user)
    ask_in_browser(requester, customers)
    [approval] = requests_of(tenant)
    approver = login(second_admin)
    assert 'data-testid="approval-approve"' in approver.get(reverse("approvals:list")).content.decode()
    with django_capture_on_commit_callbacks(execute=True):  # the requester is told once it committed
        response = approver.post(reverse("approvals:approve", args=[approval.pk]), follow=True)
    page = response.content.decode()
    assert "Approved: 3 customers moved to the recycle bin." in page and 'data-testid="undo-button"' in page
    assert alive_ids(tenant, customers) == set()
    told = requester.get(reverse("dashboard")).content.decode()
    assert f"Your deletion request {approval.pk} (3 records) was approved and done." in told
    assert "was approved and done" not in requester.get(reverse("dashboard")).content.decode()  # once


def test_refusing_from_the_list_changes_nothing_and_the_requester_is_told(
    four_eyes, tenant, records, admin_user, manager, django_capture_on_commit_callbacks
):
    customers = [records.customer() for _ in range(3)]
    requester = login(admin_user)
    ask_in_browser(requester, customers)
    [approval] = requests_of(tenant)
    with django_capture_on_commit_callbacks(execute=True):
        login(manager).post(reverse("approvals:refuse", args=[approval.pk]))
    assert alive_ids(tenant, customers) == {c.pk for c in customers}
    page = requester.get(reverse("approvals:list")).content.decode()
    assert f"Your deletion request {approval.pk} was refused: nothing was deleted." in page
    assert f'data-pk="{approval.pk}" data-status="refused"' in page


def test_the_requester_posting_approve_is_refused(four_eyes, tenant, records, admin_user):
    customers = [records.customer() for _ in range(3)]
    client = login(admin_user)
    ask_in_browser(client, customers)
    [approval] = requests_of(tenant)
    response = client.post(reverse("approvals:approve", args=[approval.pk]))
    assert response.status_code == 403 and "your own request" in response.content.decode()
    assert alive_ids(tenant, customers) == {c.pk for c in customers}


def test_a_purge_request_is_for_admins_only(four_eyes, tenant, records, admin_user, manager):
    customer = records.customer()
    put_in_bin(records, customer)
    client = login(admin_user)
    response = client.post(reverse("bin:purge"), {"items": f"customer:{customer.pk}", "confirm": "1"})
    assert response.status_code == 302 and response.url == reverse("approvals:list")
    [approval] = requests_of(tenant)
    boss = login(manager)
    assert f'data-pk="{approval.pk}"' not in boss.get(reverse("approvals:list")).content.decode()
    assert boss.post(reverse("approvals:approve", args=[approval.pk])).status_code == 404
    with activate(tenant):
        assert approval.__class__.objects.get(pk=approval.pk).status == "pending"


def test_a_rep_sees_only_their_own_requests(four_eyes, tenant, records, admin_user):
    rep = make_member(tenant, "rep-x", role="rep")
    mine = [records.customer(owner=rep) for _ in range(3)]
    ask_in_browser(login(rep), mine)
    ask_in_browser(login(admin_user), [records.customer() for _ in range(3)])
    own, other = requests_of(tenant)
    page = login(rep).get(reverse("approvals:list")).content.decode()
    assert f'data-pk="{own.pk}"' in page and f'data-pk="{other.pk}"' not in page
    assert login(rep).post(reverse("approvals:approve", args=[other.pk])).status_code == 404


def test_another_companys_request_is_a_404(four_eyes, tenant, records, admin_user, other_tenant, other_records):
    customers = [records.customer() for _ in range(3)]
    ask_in_browser(login(admin_user), customers)
    [approval] = requests_of(tenant)
    stranger = login(other_records.actor)
    assert stranger.post(reverse("approvals:approve", args=[approval.pk])).status_code == 404
    assert f'data-pk="{approval.pk}"' not in stranger.get(reverse("approvals:list")).content.decode()


def test_an_overdue_request_shows_as_expired_without_buttons(four_eyes, tenant, records, admin_user, second_admin):
    ask_in_browser(login(admin_user), [records.customer() for _ in range(3)])
    with activate(tenant):
        ApprovalRequest.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    page = login(second_admin).get(reverse("approvals:list")).content.decode()
    assert 'data-status="expired"' in page and 'data-testid="approval-approve"' not in page


def test_admins_change_the_setting_others_may_not(tenant, admin_user, manager):
    client = login(admin_user)
    url = reverse("approvals:settings")
    bad = client.post(url, {"enabled": "on", "bulk_threshold": "0", "expiry_hours": "24"})
    assert bad.status_code == 200 and "greater than or equal to 1" in bad.content.decode()
    assert 'value="0"' in bad.content.decode()  # typed data kept
    saved = client.post(url, {"enabled": "on", "bulk_threshold": "10", "expiry_hours": "48"})
    assert saved.status_code == 302
    with activate(tenant):
        policy = ApprovalPolicy.objects.get()
    assert (policy.enabled, policy.bulk_threshold, policy.expiry_hours) == (True, 10, 48)
    assert login(manager).get(url).status_code == 403
