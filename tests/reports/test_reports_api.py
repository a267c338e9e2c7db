"""/api/v1/reports/: the reports a role may read, their tables, bad input as 400s, and the schema."""

from decimal import Decimal

from tests.api.conftest import error_of, token_client
from tests.factories import make_member

LIST = "/api/v1/reports/"


def detail(slug):
    return f"/api/v1/reports/{slug}/"


def test_the_list_names_the_reports_a_role_may_read(tenant, admin_user):
    admin = token_client(tenant, admin_user)
    support = token_client(tenant, make_member(tenant, "sam", role="support"))
    assert [r["report"] for r in admin.get(LIST).json()["results"]] == [
        "funnel",
        "win-rate",
        "lost-reasons",
        "forecast",
        "tickets",
        "customers",
    ]
    assert [r["report"] for r in support.get(LIST).json()["results"]] == ["tickets", "customers"]


def test_a_report_as_json(pipeline, tenant, admin_user):
    body = token_client(tenant, admin_user).get(detail("forecast")).json()
    assert body["report"] == "forecast" and body["filters"]["currency"] == ""
    [table] = body["tables"]
    assert [column["key"] for column in table["columns"]] == [
        "month",
        "currency",
        "count",
        "pipeline",
        "weighted",
        "won",
    ]
    cny = next(row for row in table["rows"] if row["currency"] == "CNY")
    assert (cny["pipeline"], cny["weighted"], cny["won"]) == ("2000.00", "1000.00", "1500.00")
    assert cny["month"].endswith("-01")


def test_roles_and_a_reps_book(pipeline, tenant, rep):
    support = token_client(tenant, make_member(tenant, "sam", role="support"))
    error_of(support.get(detail("funnel")), 403)
    assert support.get(detail("tickets")).status_code == 200
    viewer = token_client(tenant, make_member(tenant, "vic", role="viewer"))
    assert viewer.get(detail("funnel")).json()["tables"][0]["rows"][0]["reached"] == 5
    manager = token_client(tenant, make_member(tenant, "meg", role="manager"))
    assert manager.get(detail("funnel")).json()["tables"][0]["rows"][0]["reached"] == 5
    mine = token_client(tenant, rep).get(detail("funnel")).json()
    assert mine["tables"][0]["rows"][0]["reached"] == 1


def test_another_companys_data_is_never_counted(pipeline, other_records, other_tenant, tenant, admin_user):
    other_records.opportunity(amount=Decimal("1"), currency="EUR")
    theirs = token_client(other_tenant, other_records.actor).get(detail("funnel")).json()
    assert theirs["tables"][0]["rows"][0]["reached"] == 1
    ours = token_client(tenant, admin_user).get(detail("funnel")).json()
    assert ours["tables"][0]["rows"][0]["reached"] == 5
    # A member of the other company is not an owner here.
    error = error_of(token_client(tenant, admin_user).get(detail("funnel"), {"owner": other_records.actor.pk}), 400)
    assert "owner" in error["fields"]


def test_bad_filters_are_400s_with_the_field(tenant, admin_user):
    api = token_client(tenant, admin_user)
    assert "start" in error_of(api.get(detail("funnel"), {"start": "yesterday"}), 400)["fields"]
    assert "end" in error_of(api.get(detail("funnel"), {"start": "2026-05-01", "end": "2026-04-01"}), 400)["fields"]
    assert "end" in error_of(api.get(detail("funnel"), {"start": "2000-01-01", "end": "2026-04-01"}), 400)["fields"]
    assert "currency" in error_of(api.get(detail("forecast"), {"currency": "EURO"}), 400)["fields"]
    assert "colour" in error_of(api.get(detail("forecast"), {"colour": "red"}), 400)["fields"]
    error_of(api.get(detail("no-such-report")), 404)


def test_the_schema_describes_the_reports(tenant, admin_user):
    schema = token_client(tenant, admin_user).get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    assert {"/api/v1/reports/", "/api/v1/reports/{report}/"} <= set(schema["paths"])
    parameters = {p["name"] for p in schema["paths"]["/api/v1/reports/{report}/"]["get"]["parameters"]}
    assert {"report", "start", "end", "owner", "currency"} <= parameters


def test_a_lost_deal_needs_a_reason_over_the_api(records, tenant, admin_user):
    api = token_client(tenant, admin_user)
    records._run(__import__("sales.actions", fromlist=["set_lost_reasons"]).set_lost_reasons, ["Price"])
    deal = records.opportunity()
    url = f"/api/v1/opportunities/{deal.pk}/"
    assert "lost_reason" in error_of(api.patch(url, {"stage": "lost"}, format="json"), 400)["fields"]
    refused = api.patch(url, {"stage": "lost", "lost_reason_choice": "Weather"}, format="json")
    assert "lost_reason_choice" in error_of(refused, 400)["fields"]
    accepted = api.patch(url, {"stage": "lost", "lost_reason_choice": "Price"}, format="json")
    assert accepted.status_code == 200, accepted.content
    assert (accepted.json()["stage"], accepted.json()["lost_reason_choice"]) == ("lost", "Price")
    other = records.opportunity()
    free_text = api.patch(
        f"/api/v1/opportunities/{other.pk}/", {"stage": "lost", "lost_reason": "Budget cut"}, format="json"
    )
    assert free_text.json()["lost_reason"] == "Budget cut"
