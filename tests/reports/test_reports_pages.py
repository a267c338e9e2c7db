"""The Reports pages: who sees what, filters, the CSV export (audited), the dashboard's charts, Chinese numbers."""

import csv
import io
import json
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from audit.models import AuditEvent
from crm.web.templatetags.crm import money
from reports.catalogue import REPORTS
from tests.conftest import login
from tests.factories import make_member


def page(client, slug, **query):
    return client.get(reverse("reports:report", args=[slug]), query)


def test_every_report_has_a_chart_and_the_table_under_it(pipeline, admin_user):
    client = login(admin_user)
    for slug in REPORTS:
        html = page(client, slug).content.decode()
        assert 'data-testid="report-chart"' in html and 'role="img"' in html, slug
        assert "<table" in html and 'data-testid="report-export"' in html
    funnel = page(client, "funnel")
    chart = json.loads(re.search(r'data-chart="([^"]*)"', funnel.content.decode()).group(1).replace("&quot;", '"'))
    assert chart["type"] == "funnel"
    assert chart["categories"] == ["Lead", "Qualified", "Proposal", "Negotiation", "Won"]
    assert chart["series"][0]["data"] == [5, 3, 2, 2, 2]


@pytest.mark.parametrize(
    ("role", "readable"),
    [
        ("admin", set(REPORTS)),
        ("manager", set(REPORTS)),
        ("rep", set(REPORTS)),
        ("viewer", set(REPORTS)),
        ("support", {"tickets", "customers"}),
    ],
)
def test_who_reads_which_report(tenant, role, readable):
    client = login(make_member(tenant, f"{role}1", role=role))
    assert client.get(reverse("reports:index")).status_code == 200
    for slug in REPORTS:
        expected = 200 if slug in readable else 403
        assert page(client, slug).status_code == expected, (role, slug)


def test_a_rep_sees_their_own_book_on_the_page(pipeline, rep):
    funnel = page(login(rep), "funnel").context["tables"][0]["table"].rows
    assert funnel[0]["reached"] == 1


def test_bad_filters_keep_what_was_typed_and_say_why(admin_user):
    response = page(login(admin_user), "forecast", start="2026-05-01", end="2026-04-01", currency="EURO")
    assert response.status_code == 400
    html = response.content.decode()
    assert "The period ends before it starts." in html
    assert 'value="2026-05-01"' in html and 'value="EURO"' in html
    assert page(login(admin_user), "no-such-report").status_code == 404


def test_csv_export_is_audited_with_the_filters_and_no_personal_values(pipeline, admin_user, rep):
    client = login(admin_user)
    response = client.get(reverse("reports:export", args=["win-rate"]), {"owner": rep.pk, "currency": "cny"})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="report-win-rate-alpha-')
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][0] == "Win rate" and rows[0][3] == "CNY"
    assert ["Owner", "Won", "Lost", "Win rate"] in rows
    assert ["rita", "1", "0", "100.0"] in rows
    event = AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).latest("seq")
    assert (event.object_type, event.object_id, event.actor_id) == ("report", "win-rate", admin_user.pk)
    assert event.detail["filters"]["owner"] == rep.pk and event.detail["filters"]["currency"] == "CNY"
    assert "rita" not in json.dumps(event.detail)


def test_export_refused_for_a_role_without_the_report(tenant):
    support = login(make_member(tenant, "sam", role="support"))
    assert support.get(reverse("reports:export", args=["funnel"])).status_code == 403
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).exists()


def test_csv_cells_never_start_a_formula(records, admin_user):
    records._run(__import__("sales.actions", fromlist=["x"]).set_lost_reasons, ["=HYPERLINK()"])
    customer = records.customer()
    deal = records.opportunity(customer)
    records._run(__import__("sales.actions", fromlist=["x"]).lose_opportunity, deal, lost_reason_choice="=HYPERLINK()")
    body = login(admin_user).get(reverse("reports:export", args=["lost-reasons"])).content.decode("utf-8-sig")
    assert "'=HYPERLINK()" in body


def test_the_dashboard_shows_small_funnel_and_forecast(pipeline, admin_user, tenant):
    html = login(admin_user).get(reverse("dashboard")).content.decode()
    assert 'data-testid="dashboard-funnel"' in html and 'data-testid="dashboard-forecast"' in html
    assert "vendor/echarts/echarts.min.js" in html
    support = login(make_member(tenant, "sam", role="support")).get(reverse("dashboard")).content.decode()
    assert 'data-testid="dashboard-funnel"' not in support


def test_a_report_page_runs_a_constant_number_of_queries(records, admin_user):
    client = login(admin_user)
    page(client, "win-rate")
    with CaptureQueriesContext(connection) as few:
        assert page(client, "win-rate").status_code == 200
    for n in range(6):
        member = make_member(records.tenant, f"seller{n}")
        deal = records.opportunity(owner=member, currency=["CNY", "USD", "EUR"][n % 3])
        records._run(__import__("sales.actions", fromlist=["x"]).move_opportunity, deal, "won")
    with CaptureQueriesContext(connection) as many:
        assert page(client, "win-rate").status_code == 200
    assert len(many) == len(few)


def test_chinese_amounts_keep_their_thousands_separators(records, admin_user):
    with translation.override("zh-hans"):
        assert "1,234,567.50" in money(Decimal("1234567.5"), "CNY")
    records.opportunity(
        amount=Decimal("1234567.50"),
        expected_close_date=__import__("django.utils.timezone", fromlist=["x"]).localdate(),
    )
    client = login(admin_user, language="zh-hans")
    html = page(client, "forecast").content.decode()
    assert "CNY&nbsp;1,234,567.50" in html
    assert '<html lang="zh-hans">' in html
    board = client.get(reverse("sales:board")).content.decode()
    assert "1,234,567.50" in board
