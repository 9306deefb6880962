"""The copy buttons next to the embed snippets on a line's admin page."""

from __future__ import annotations

import pytest

from .conftest import log_in_as_staff

pytestmark = pytest.mark.django_db(transaction=True)


def test_copy_button_puts_the_snippet_on_the_clipboard(browser, live_server, line, settings):
    settings.CLICKTOCALL_PUBLIC_URL = "https://calls.example.org"
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    try:
        page = context.new_page()
        page.set_default_timeout(10_000)
        log_in_as_staff(page, live_server, f"/admin/clicktocall/campaignline/{line.pk}/change/")
        snippet = page.get_by_label("The widget (recommended)", exact=False)
        expected = snippet.input_value()
        assert expected.startswith('<div data-campaign-line="+18559299898"')
        assert 'src="https://calls.example.org/static/clicktocall/widget.js"' in expected
        page.get_by_role("button", name="Copy the widget snippet").click()
        page.locator("#ctc-copy-status-widget").filter(has_text="Copied.").wait_for()
        assert page.evaluate("navigator.clipboard.readText()") == expected
    finally:
        context.close()
