"""The reports' charts draw in a real browser, in English and in Chinese, under the CSP."""

from decimal import Decimal

import pytest
from django.utils import timezone

from sales import actions as sales_actions
from tests.e2e.conftest import log_in
from tests.factories import RecordMaker

pytestmark = pytest.mark.browser

LISTEN = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations.push(`${event.violatedDirective} ${event.blockedURI} ${event.sourceFile}:${event.lineNumber}`);
});
"""


@pytest.fixture
def deals(tenant, admin):
    records = RecordMaker(tenant, admin)
    customer = records.customer(name="Initech")
    today = timezone.localdate()
    won = records.opportunity(customer, amount=Decimal("1234567.50"), expected_close_date=today)
    records._run(sales_actions.move_opportunity, won, "won")
    records.opportunity(customer, amount=Decimal("2500000"), probability=40, expected_close_date=today)


def charts_drawn(page) -> int:
    """How many report charts hold an ECharts canvas or SVG."""
    page.wait_for_selector("[data-testid=report-chart] canvas, [data-testid=report-chart] svg")
    return page.locator("[data-testid=report-chart]:has(canvas), [data-testid=report-chart]:has(svg)").count()


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_charts_render_in_both_languages(page, deals, language, snap):
    page.add_init_script(LISTEN)
    log_in(page, "erin")
    if language != "en":
        with page.expect_navigation():
            page.select_option("[data-testid=language-switcher] select", language)
    labels = {}
    for path, expected in (("/reports/funnel/", 1), ("/reports/win-rate/", 3), ("/reports/forecast/", 1)):
        page.goto(path)
        assert page.locator("html").get_attribute("lang") == language
        assert charts_drawn(page) == expected, path
        assert page.evaluate("window.__violations") == [], path
        labels[path] = page.locator("[data-testid=report-chart]").first.get_attribute("aria-label")
    # The forecast's table says the amounts in the page's language, grouped by three.
    assert "1,234,567.50" in page.locator("[data-testid=report-table-forecast]").inner_text()
    # What a screen reader hears: the chart's title and where its numbers are (the table under it).
    # (the server's translated label, not ECharts' generated one that reads the numbers out of order).
    assert all(label and "This is a chart" not in label for label in labels.values()), labels
    snap(page, f"reports-forecast-{language}")
    page.goto("/")
    assert charts_drawn(page) == 2
    snap(page, f"dashboard-charts-{language}")


def test_losing_a_deal_on_the_board_asks_for_the_reason(page, tenant, admin):
    records = RecordMaker(tenant, admin)
    records._run(sales_actions.set_lost_reasons, ["Price", "Timing"])
    deal = records.opportunity(records.customer(name="Initech"), name="Big deal")
    log_in(page, "erin")
    page.goto("/opportunities/pipeline/")
    card = page.locator(f"[data-testid=opportunity-card][data-id='{deal.pk}']")
    card.get_by_test_id("card-move-select").select_option("lost")
    card.get_by_test_id("card-move-submit").click()
    modal = page.get_by_test_id("lost-reason-modal")
    modal.get_by_test_id("lost-reason-choice").select_option("Timing")
    modal.locator("button[type=submit]").click()
    page.wait_for_selector(f"[data-testid=board-column-lost] [data-id='{deal.pk}']:not([aria-busy])")
    deal.refresh_from_db()
    assert (deal.stage, deal.lost_reason_choice) == ("lost", "Timing")
