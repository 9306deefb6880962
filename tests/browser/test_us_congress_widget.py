"""The widget of a line that calls the visitor's members of Congress: it asks for the ZIP code and sends it."""

from __future__ import annotations

import pytest

from clicktocall import embed
from clicktocall.models import CallAttempt
from tests.us_congress import WARREN, congress_line

from .conftest import log_in_as_staff

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def widget_page(customer_site, app_url, settings, db):
    settings.CLICKTOCALL_PUBLIC_URL = app_url
    congress_line()
    snippet = embed.snippets("8559299898", thanks_url=customer_site.url("thanks.html"), by_location=True).widget
    return customer_site.add_page(
        "act.html",
        f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Act now</title></head>
        <body><h1>Call your members of Congress</h1>{snippet}</body></html>""",
    )


def test_the_zip_code_is_explained_checked_and_sent(page, widget_page, outbox):
    page.goto(widget_page)
    zip_field = page.get_by_label("Your ZIP code")
    hint = page.locator(f"#{zip_field.get_attribute('aria-describedby')}").inner_text()
    assert "your own members of Congress" in hint
    page.get_by_label("Your phone number").fill("(617) 523-2338")
    zip_field.fill("0211")
    page.get_by_role("button", name="Call me").click()
    page.get_by_role("status").filter(has_text="Please enter a 5-digit ZIP code, such as 02113.").wait_for()
    assert zip_field.get_attribute("aria-invalid") == "true" and outbox == []
    assert page.evaluate("document.activeElement.name") == "zip"

    zip_field.fill("02113-1234")
    page.get_by_role("button", name="Call me").click()
    page.get_by_role("status").filter(has_text="The call's been placed.").wait_for()
    assert zip_field.get_attribute("aria-invalid") is None
    assert CallAttempt.objects.get().variables == {"zip": "02113-1234"} and len(outbox) == 1


def test_the_look_up_box_on_the_lines_page(page, live_server, us_data):
    line = congress_line()
    log_in_as_staff(page, live_server, f"/admin/clicktocall/campaignline/{line.pk}/change/")
    box = page.get_by_label("Whom would a call connect to, for the ZIP code")
    box.fill("02113")
    box.press("Enter")  # the box's own form, not the line's
    page.get_by_role("heading", name="A call would connect to, in order").wait_for()
    assert "/targets/?zip=02113" in page.url
    assert page.get_by_role("cell", name=f"Senator Elizabeth Warren ({WARREN})").count() == 1
