"""The widget on a customer's page (another origin), with a keyboard and a screen reader's view."""

from __future__ import annotations

import pytest

from clicktocall import embed
from clicktocall.models import CallAttempt

pytestmark = pytest.mark.django_db(transaction=True)

PLACED = "The call's been placed."


@pytest.fixture
def widget_page(customer_site, app_url, settings, line):
    settings.CLICKTOCALL_PUBLIC_URL = app_url
    snippet = embed.snippets("8559299898", thanks_url=customer_site.url("thanks.html")).widget
    customer_site.add_page("thanks.html", "<!doctype html><title>Thanks</title><h1>Thank you</h1>")
    return customer_site.add_page(
        "act.html",
        f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Act now</title></head>
        <body><h1>Call your senator</h1>{snippet}</body></html>""",
    )


def live_region(page):
    return page.get_by_role("status")


def test_keyboard_only_visitor_places_a_call_and_hears_the_message(page, widget_page, app_url, outbox):
    requests = []
    page.on("request", lambda r: requests.append((r.method, r.url)))
    page.goto(widget_page)
    page.wait_for_selector(".ctc-widget form")
    assert page.locator("form.ctc-form").count() == 1  # the fallback form was replaced
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "phone"
    assert page.evaluate("document.activeElement.type") == "tel"
    assert page.evaluate("document.activeElement.inputMode") == "tel"
    page.keyboard.type("617.523.2338")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "name"
    page.keyboard.type("Ada Lovelace")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "zip"
    page.keyboard.type("02113")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Call me"
    page.keyboard.press("Space")
    region = live_region(page)
    region.filter(has_text=PLACED).wait_for()
    assert region.get_attribute("aria-live") == "polite"
    assert [c.to for c in outbox] == ["+16175232338"]
    attempt = CallAttempt.objects.get()
    assert (attempt.outcome, attempt.name, attempt.variables) == ("placed", "Ada Lovelace", {"zip": "02113"})
    assert ("POST", f"{app_url}/outgoing/") in requests
    assert page.url == widget_page  # answered in place, no navigation


def test_enter_in_the_phone_field_submits(page, widget_page, outbox):
    page.goto(widget_page)
    phone = page.get_by_label("Your phone number")
    phone.fill("(617) 523-2338")
    phone.press("Enter")
    live_region(page).filter(has_text=PLACED).wait_for()
    assert len(outbox) == 1


def test_missing_or_malformed_number_is_announced_and_marked(page, widget_page, outbox):
    page.goto(widget_page)
    phone = page.get_by_label("Your phone number")
    page.get_by_role("button", name="Call me").press("Enter")
    live_region(page).filter(has_text="Please enter your phone number.").wait_for()
    assert phone.get_attribute("aria-invalid") == "true"
    assert page.evaluate("document.activeElement.name") == "phone"  # focus sent back to the field
    described = phone.get_attribute("aria-describedby").split()
    assert page.locator(f"#{described[-1]}").inner_text() == "Please enter your phone number."

    phone.fill("12345")
    phone.press("Enter")
    live_region(page).filter(has_text="with its area code").wait_for()
    assert phone.get_attribute("aria-invalid") == "true"

    phone.fill("(617) 523-2338")
    phone.press("Enter")
    live_region(page).filter(has_text=PLACED).wait_for()
    assert phone.get_attribute("aria-invalid") is None
    assert len(outbox) == 1


def test_server_refusal_is_shown_as_an_error(page, widget_page, outbox):
    page.goto(widget_page)
    phone = page.get_by_label("Your phone number")
    phone.fill("(555) 555-0100")  # looks like a number, is not a dialable one
    phone.press("Enter")
    region = live_region(page)
    region.filter(has_text="Sorry, but you haven't provided any of the info we were expecting.").wait_for()
    assert region.get_attribute("data-state") == "error"
    assert phone.get_attribute("aria-invalid") == "true"
    assert outbox == [] and CallAttempt.objects.get().outcome == "invalid"


def test_unreachable_service_is_reported(page, customer_site, app_url, line):
    url = customer_site.add_page(
        "broken.html",
        f"""<!doctype html><title>Broken</title>
        <div data-campaign-line="8559299898" data-endpoint="http://127.0.0.1:9/outgoing/"></div>
        <script src="{app_url}/static/clicktocall/widget.js"></script>""",
    )
    page.goto(url)
    page.get_by_label("Your phone number").fill("617 523 2338")
    page.get_by_role("button", name="Call me").click()
    live_region(page).filter(has_text="could not reach the calling service").wait_for()


def test_endpoint_is_derived_from_the_script_src(page, customer_site, app_url, line, outbox):
    url = customer_site.add_page(
        "bare.html",
        f"""<!doctype html><title>Bare</title>
        <div data-campaign-line="+18559299898" data-fields="email" data-data='{{"district": "MA-7"}}'></div>
        <script src="{app_url}/static/clicktocall/widget.js" async></script>""",
    )
    page.goto(url)
    page.get_by_label("Your email (optional)").fill("ada@example.org")
    assert page.get_by_label("ZIP code (optional)").count() == 0
    page.get_by_label("Your phone number").fill("+1 617 523 2338")
    page.get_by_role("button", name="Call me").click()
    live_region(page).filter(has_text=PLACED).wait_for()
    attempt = CallAttempt.objects.get()
    assert (attempt.email, attempt.variables) == ("ada@example.org", {"district": "MA-7"})


def test_the_pattern_is_valid_for_the_browser(page, widget_page):
    page.goto(widget_page)
    pattern = page.get_by_label("Your phone number").get_attribute("pattern")
    # Browsers compile pattern attributes with the "v" flag; an invalid one is ignored silently.
    assert page.evaluate("p => new RegExp('^(?:' + p + ')$', 'v').test('(617) 523-2338')", pattern)
    assert not page.evaluate("p => new RegExp('^(?:' + p + ')$', 'v').test('call me')", pattern)


def test_without_javascript_the_plain_form_works(browser, widget_page, customer_site, outbox):
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.goto(widget_page)
        page.get_by_label("Your phone number").fill("617-523-2338")
        page.get_by_role("button", name="Call me").click()
        page.wait_for_url(customer_site.url("thanks.html"))
        assert page.inner_text("h1") == "Thank you"
    finally:
        context.close()
    assert [c.to for c in outbox] == ["+16175232338"]
