"""A campaign organizer's path through the admin, in a real browser at 1280 px.

Create a line with a script that uses a variable with a default, add two targets, see the
preview warn about a variable spoken as nothing, place a test call with the console
backend and read its transcript, find it on the attempts list and not in the results,
export the line's attempts as CSV, and reorder the targets with the arrows.
"""

from __future__ import annotations

import csv
import io
import re

import pytest

from clicktocall import voices
from clicktocall.models import CallAttempt, CampaignLine

from .conftest import log_in_as_staff

pytestmark = pytest.mark.django_db(transaction=True)

WIDTH = 1280


def fits(page) -> bool:
    """Nothing is wider than the window, nor the targets' table than its box."""
    table = page.locator("#targets-group table")
    if table.count() and table.evaluate("t => t.scrollWidth > t.parentElement.clientWidth"):
        return False
    return page.evaluate("document.documentElement.scrollWidth") <= WIDTH


def test_an_organizer_sets_up_a_line_tests_it_and_reads_the_results(browser, live_server, settings):
    settings.CLICKTOCALL_TELEPHONY_BACKEND = "console"
    context = browser.new_context(viewport={"width": WIDTH, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    log_in_as_staff(page, live_server, "/admin/clicktocall/campaignline/add/")
    page.wait_for_url("**/campaignline/add/")
    assert page.get_by_role("heading", name="Preview").count() == 0  # nothing empty on the add page

    page.get_by_label("Campaign name:", exact=True).fill("Save the park")
    page.get_by_label("Campaign phone number:", exact=True).fill("(855) 929-9898")
    page.get_by_label("Script:", exact=True).fill(
        'Hello {{ name }}. Please save {{ park_name | "the park" }} in {{ city }}.'
    )
    page.get_by_label("Language:", exact=True).select_option("fr-FR")
    french = page.get_by_label("Voice:", exact=True).input_value()
    assert voices.voices()[french].language == "fr-FR"  # the voice follows the language
    assert page.locator("select.ctc-voice option:not([disabled])[value='Polly.Joanna']").count() == 0
    page.get_by_label("Language:", exact=True).select_option("en-US")
    page.get_by_label("Voice:", exact=True).select_option("Polly.Matthew")
    rows = page.locator(".inline-group tr.form-row:not(.empty-form)")
    rows.nth(0).locator("input[name$='-name']").fill("Sen. Warren")
    rows.nth(0).locator("input[name$='-phone_number']").fill("(202) 224-4543")
    page.get_by_text(re.compile("add another target", re.I)).click()
    rows.nth(1).locator("input[name$='-name']").fill("Rep. Pressley")
    rows.nth(1).locator("input[name$='-phone_number']").fill("(202) 225-5111")
    assert fits(page)
    page.get_by_role("button", name="Save and continue editing").click()
    page.wait_for_url("**/change/")

    line = CampaignLine.objects.get()
    assert [(t.name, t.position) for t in line.targets.all()] == [("Sen. Warren", 0), ("Rep. Pressley", 1)]
    assert page.locator(".ctc-preview-warning").inner_text().startswith("Spoken as nothing: city.")
    assert page.get_by_role("button", name="Listen").is_visible()
    assert "name=&quot;park_name&quot;" not in page.locator("#ctc-embed-form").input_value()
    assert 'name="park_name" value="the park"' in page.locator("#ctc-embed-form").input_value()
    assert fits(page)

    page.get_by_role("link", name="Call me now").click()
    page.get_by_label("Your phone number").fill("(617) 523-2338")
    page.get_by_role("button", name="Call me now").click()
    page.wait_for_url("**/change/#ctc-test-call")
    transcript = page.locator(".ctc-test-call .ctc-transcript").inner_text()
    assert 'Says: "Hello staff. Please save the park in .' in transcript  # city: spoken as nothing, as warned
    assert "Dials +12022244543" in transcript
    assert page.locator(".ctc-test-call-result").get_by_text("Simulated (not dialed)").is_visible()

    page.goto(f"{live_server.url}/admin/clicktocall/callattempt/")
    row = page.locator("#result_list tbody tr").first
    assert row.locator(".ctc-badge").inner_text() == "test"
    assert row.locator("td.field-call_status").inner_text() == "Simulated"
    assert fits(page)

    page.goto(f"{live_server.url}/admin/clicktocall/campaignline/{line.pk}/change/")
    page.get_by_role("link", name="Results & charts").click()
    assert page.locator("#ctc-total-requests").inner_text() == "0"  # the test call is left out
    page.get_by_role("link", name="Include them").click()
    assert page.locator("#ctc-total-requests").inner_text() == "1"

    with page.expect_download() as download:
        page.get_by_role("link", name="Export these attempts (CSV)").click()
    text = open(download.value.path(), encoding="utf-8").read()
    (record,) = csv.DictReader(io.StringIO(text))
    assert (record["outcome"], record["call status"], record["test call"]) == (
        "Placed",
        "Simulated (not dialed)",
        "yes",
    )
    assert record["phone"] == "+16175232338" and CallAttempt.objects.get().is_test

    page.goto(f"{live_server.url}/admin/clicktocall/campaignline/{line.pk}/change/")
    page.locator("#targets-group tr.form-row").first.get_by_role("button", name="Move down").click()
    page.get_by_role("button", name="Save and continue editing").click()
    page.wait_for_url("**/change/")
    assert [t.name for t in line.targets.order_by("position")] == ["Rep. Pressley", "Sen. Warren"]
    context.close()
