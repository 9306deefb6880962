"""The line's results page in a real browser: log in as staff, follow the link, see the charts."""

from __future__ import annotations

import pytest
from django.utils import timezone

from tests.stats_data import history

from .conftest import log_in_as_staff

pytestmark = pytest.mark.django_db(transaction=True)


def test_staff_sees_the_charts_with_bars_for_the_data(page, live_server, line, targets):
    total = history(line, targets, days=30, today=timezone.localdate())
    log_in_as_staff(page, live_server, f"/admin/clicktocall/campaignline/{line.pk}/change/")
    page.get_by_role("link", name="Results & charts").click()
    page.wait_for_url(f"**/campaignline/{line.pk}/stats/")

    chart = page.get_by_role("img", name="Calls per day")
    assert chart.count() == 1 and chart.is_visible()
    bars = page.locator("#ctc-chart-days g.ctc-bar")
    assert bars.count() == 30
    rects = page.locator("#ctc-chart-days g.ctc-bar rect").all()
    heights = [rect.bounding_box()["height"] for rect in rects]
    assert len(heights) >= 30 and min(heights) > 0
    assert sum(int(v) for v in bars.evaluate_all("gs => gs.map(g => g.dataset.total)")) == total
    assert page.locator("#ctc-total-requests").inner_text() == str(total)
    assert page.get_by_role("img", name="Outcomes").is_visible()
    assert page.get_by_role("img", name="Connections per target").is_visible()
    assert page.locator("#ctc-table-targets tbody tr").count() == 2

    page.get_by_text("Calls per day as a table").click()
    assert page.locator("#ctc-table-days tbody tr").count() == 30

    page.get_by_role("link", name="Last 7 days").click()
    page.wait_for_url("**start=*")
    assert page.locator("#ctc-chart-days g.ctc-bar").count() == 7
