"""The company's list of lost reasons: admins keep it; a deal lost takes a reason from it or free text."""

from django.urls import reverse

from audit.models import AuditEvent
from crm.tenancy.context import activate
from sales.models import LostReason
from tests.conftest import login
from tests.factories import make_member


def labels(tenant):
    with activate(tenant):
        return list(LostReason.objects.values_list("label", flat=True))


def test_an_admin_sets_the_list_one_per_line(tenant, admin_user):
    client = login(admin_user)
    response = client.post(reverse("sales:lost_reasons"), {"labels": "Price\n\n  Timing \nPrice\nNo budget"})
    assert response.status_code == 302
    assert labels(tenant) == ["Price", "Timing", "No budget"]
    event = AuditEvent.objects.filter(action=AuditEvent.Action.SETTINGS).latest("seq")
    assert event.detail == {"what": "lost_reasons", "before": 0, "after": 3}
    assert "Timing" in client.get(reverse("sales:lost_reasons")).content.decode()


def test_too_long_a_reason_is_a_form_error_and_keeps_the_text(tenant, admin_user):
    response = login(admin_user).post(reverse("sales:lost_reasons"), {"labels": "Price\n" + "x" * 101})
    assert response.status_code == 200
    html = response.content.decode()
    assert "A reason has at most 100 characters." in html and "x" * 101 in html
    assert labels(tenant) == []


def test_only_admins_keep_the_list(tenant):
    for role in ("manager", "rep", "support", "viewer"):
        client = login(make_member(tenant, f"{role}2", role=role))
        assert client.get(reverse("sales:lost_reasons")).status_code == 403
        assert client.post(reverse("sales:lost_reasons"), {"labels": "Price"}).status_code == 403
    assert labels(tenant) == []


def test_the_other_companys_list_is_not_offered(records, other_records, admin_user):
    other_records._run(__import__("sales.actions", fromlist=["x"]).set_lost_reasons, ["Their reason"])
    deal = records.opportunity()
    response = login(admin_user).post(
        reverse("sales:move", args=[deal.pk]), {"stage": "lost", "lost_reason_choice": "Their reason"}
    )
    assert response.status_code == 400
