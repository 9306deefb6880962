"""The embedding examples of docs/embedding.md, copied as written, work in chromium.

Each example is taken from the page's code blocks, pointed at the live server instead
of ``https://calls.example.org``, and run on a customer page of another origin.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from clicktocall.models import CallAttempt

pytestmark = pytest.mark.django_db(transaction=True)

README = Path(__file__).resolve().parents[2] / "docs" / "embedding.md"
SERVICE = "https://calls.example.org"
THANKS = "https://www.example.org/thank-you"
PLACED = "The call's been placed."
INVALID = "Sorry, but you haven't provided any of the info we were expecting."


def examples() -> list[tuple[str, str]]:
    """The (language, code) blocks of docs/embedding.md, in order."""
    section = README.read_text(encoding="utf-8")
    return re.findall(r"```(html|js)\n(.*?)```", section, re.DOTALL)


def example(language: str, containing: str) -> str:
    found = [code for lang, code in examples() if lang == language and containing in code]
    assert len(found) == 1, f"docs/embedding.md has no single {language} example with {containing!r}"
    return found[0]


def test_readme_form_example_posts_and_lands_on_the_thank_you_page(page, customer_site, app_url, line, outbox):
    thanks = customer_site.add_page("thank-you.html", "<h1>Thank you</h1>")
    form = example("html", "<form").replace(SERVICE, app_url).replace(THANKS, thanks)
    page.goto(customer_site.add_page("form.html", form))
    page.fill("#ctc-phone", "(617) 523-2338")
    page.fill("#ctc-zip", "02113")
    page.click("button")
    page.wait_for_url(thanks)
    attempt = CallAttempt.objects.get()
    assert (attempt.outcome, attempt.variables.get("zip")) == ("placed", "02113")
    assert [c.to for c in outbox] == ["+16175232338"]


def test_readme_jquery_get_example_shows_the_message(page, customer_site, app_url, jquery, line, outbox):
    code = example("js", "#message").replace(SERVICE, app_url)
    for number, message in (("617.523.2338", PLACED), ("12", INVALID)):  # an error arrives with status 400
        html = f"""<input id="phone" value="{number}"><input id="name" value="Ann"><input id="zip" value="02113">
        <p id="message"></p>
        <script src="jquery.min.js"></script>
        <script>{code}</script>"""
        page.goto(customer_site.add_page(f"get-{len(number)}.html", html))
        page.wait_for_function("document.getElementById('message').textContent !== ''")
        assert page.inner_text("#message") == message
    assert [(a.outcome, a.name) for a in CallAttempt.objects.order_by("pk")] == [("placed", "Ann"), ("invalid", "Ann")]


def test_readme_jsonp_example_runs_its_callback(page, customer_site, app_url, jquery, line, outbox):
    code = example("js", "callback=?").replace(SERVICE, app_url)
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    shown = "<script>window.alert = function (text) { document.title = text; };</script>"
    html = f'{shown}<script src="jquery.min.js"></script><script>{code}</script>'
    page.goto(customer_site.add_page("jsonp.html", html))
    page.wait_for_function("document.title !== ''")
    assert page.title() == PLACED
    assert any(re.search(r"/outgoing/\?callback=jQuery\d+_\d+&", url) for url in requests)
    assert [c.to for c in outbox] == ["+16175232338"]
