"""Debian's chromium on a customer page (another origin) embedding /outgoing the three ways pages do."""

import pytest

from clicktocall.models import CallAttempt

pytestmark = pytest.mark.django_db(transaction=True)

PLACED = "The call's been placed."
INVALID = "Sorry, but you haven't provided any of the info we were expecting."
UNCONFIGURED = "This phone number is not configured."


@pytest.mark.parametrize(
    ("typed", "outcome", "called"), [("617.523.2338", "placed", ["+16175232338"]), ("12", "invalid", [])]
)
def test_plain_form_post_lands_on_thank_you_page(page, customer_site, app_url, line, outbox, typed, outcome, called):
    """On success and on an error alike: the browser follows the 302 to revmsghtml."""
    thanks = customer_site.add_page("thanks.html", "<h1>Thank you</h1>")
    form = customer_site.add_page(
        "form.html",
        f"""<form method="post" action="{app_url}/outgoing/">
        <input type="hidden" name="campaign_line" value="8559299898">
        <input type="hidden" name="revmsghtml" value="{thanks}">
        <input name="phone" aria-label="phone"><button>Call me</button></form>""",
    )
    page.goto(form)
    page.fill("input[name=phone]", typed)
    page.click("button")
    page.wait_for_url(thanks)
    assert page.inner_text("h1") == "Thank you"
    assert CallAttempt.objects.get().outcome == outcome
    assert [c.to for c in outbox] == called


def test_form_with_empty_revmsghtml_shows_the_result_page(page, customer_site, app_url, line, outbox):
    form = customer_site.add_page(
        "form.html",
        f"""<form method="post" action="{app_url}/outgoing/">
        <input type="hidden" name="campaign_line" value="8559299898">
        <input type="hidden" name="revmsghtml" value="">
        <input name="phone" aria-label="phone"><input name="zip" aria-label="zip"><button>Call me</button></form>""",
    )
    page.goto(form)
    page.fill("input[name=phone]", "(617) 523-2338")
    page.fill("input[name=zip]", "02113")
    page.click("button")
    page.wait_for_url(f"{app_url}/outgoing/")
    assert page.inner_text("#message") == PLACED
    assert page.title() == "Your call is on its way"
    assert CallAttempt.objects.get().variables == {"zip": "02113"}


def test_form_without_revmsghtml_shows_an_error_page(page, customer_site, app_url, line, outbox):
    form = customer_site.add_page(
        "form.html",
        f"""<form method="post" action="{app_url}/outgoing">
        <input type="hidden" name="campaign_line" value="2025550143">
        <input name="phone" aria-label="phone"><button>Call me</button></form>""",
    )
    page.goto(form)
    page.fill("input[name=phone]", "617.523.2338")
    page.click("button")
    page.wait_for_url(f"{app_url}/outgoing")
    assert page.inner_text("#message") == UNCONFIGURED
    assert page.title() == "Your call was not placed"


def test_text_plain_form_lands_on_thank_you_page(page, customer_site, app_url, line, outbox):
    thanks = customer_site.add_page("thanks.html", "<h1>Thank you</h1>")
    form = customer_site.add_page(
        "form.html",
        f"""<form method="post" enctype="text/plain" action="{app_url}/outgoing/">
        <input type="hidden" name="campaign_line" value="8559299898">
        <input type="hidden" name="revmsghtml" value="{thanks}">
        <input name="phone" aria-label="phone"><input name="name" aria-label="name">
        <button>Call me</button></form>""",
    )
    page.goto(form)
    page.fill("input[name=phone]", "+1 617 523 2338")
    page.fill("input[name=name]", "Paul Revere")
    page.click("button")
    page.wait_for_url(thanks)
    attempt = CallAttempt.objects.get()
    assert (attempt.outcome, attempt.name, attempt.phone) == ("placed", "Paul Revere", "+16175232338")


def _jquery_page(customer_site, script: str) -> str:
    return customer_site.add_page(
        "jq.html",
        f"""<!doctype html><html><body><p id="msg"></p><p id="how"></p>
        <script src="jquery.min.js"></script><script>{script}</script></body></html>""",
    )


GET_SCRIPT = """
$.get("{app}/outgoing/", {{phone: "{phone}", campaign_line: "8559299898", name: "Paul", zip: "02113",
                          email: "paul@example.org"}}, function (data) {{
  $("#how").text("success");
  $("#msg").text(data.message);
}}).fail(function (xhr) {{
  $("#how").text("fail " + xhr.status);
  $("#msg").text(xhr.responseJSON ? xhr.responseJSON.message : "unreadable");
}});
"""


def test_jquery_get_cross_origin(page, customer_site, app_url, jquery, line, outbox):
    page.goto(_jquery_page(customer_site, GET_SCRIPT.format(app=app_url, phone="(617) 523-2338")))
    page.wait_for_function("document.getElementById('msg').textContent !== ''")
    assert page.inner_text("#msg") == PLACED
    assert page.inner_text("#how") == "success"
    attempt = CallAttempt.objects.get()
    assert attempt.variables == {"zip": "02113"}
    assert attempt.referrer.startswith(customer_site.origin)


def test_jquery_get_cross_origin_error_is_readable(page, customer_site, app_url, jquery, line, outbox):
    page.goto(_jquery_page(customer_site, GET_SCRIPT.format(app=app_url, phone="12")))
    page.wait_for_function("document.getElementById('msg').textContent !== ''")
    assert page.inner_text("#how") == "fail 400"
    assert page.inner_text("#msg") == INVALID  # readable only because the error carries CORS headers


def test_jquery_post_json_cross_origin_with_preflight(page, customer_site, app_url, jquery, line, outbox):
    script = f"""
    var info = {{phone: "617.523.2338", campaign_line: "+18559299898", data: {{district: "MA-8"}}}};
    $.ajax({{url: "{app_url}/outgoing", method: "POST", contentType: "application/json", data: JSON.stringify(info)}})
      .done(function (data) {{ $("#msg").text(data.message); }})
      .fail(function (xhr) {{ $("#msg").text("fail " + xhr.status); }});
    """
    page.goto(_jquery_page(customer_site, script))
    page.wait_for_function("document.getElementById('msg').textContent !== ''")
    assert page.inner_text("#msg") == PLACED
    assert CallAttempt.objects.get().variables == {"district": "MA-8"}


# jQuery turns "callback=?" into a <script> request with callback=jQuery37…_… when the data type is
# json or jsonp: $.getJSON, or $.get with "json"/"jsonp" as its last argument.
JSONP_CALLS = {
    "getJSON": '$.getJSON("{app}/outgoing/?callback=?", info, show);',
    "get-json": '$.get("{app}/outgoing/?callback=?", info, show, "json");',
    "get-jsonp": '$.get("{app}/outgoing/?callback=?", info, show, "jsonp");',
}
JSONP_SCRIPT = """
var info = {{phone: "617.523.2338", campaign_line: "{line}", name: "Paul"}};
function show(data) {{ $("#msg").text(data.message); $("#how").text(String(data.error)); }}
"""


def _jsonp_page(customer_site, app_url, line, call):
    script = JSONP_SCRIPT.format(line=line) + JSONP_CALLS[call].format(app=app_url)
    return _jquery_page(customer_site, script)


@pytest.mark.parametrize("call", list(JSONP_CALLS))
def test_jquery_jsonp_success(page, customer_site, app_url, jquery, line, outbox, call):
    scripts = []
    page.on("request", lambda request: scripts.append(request) if "/outgoing/" in request.url else None)
    page.goto(_jsonp_page(customer_site, app_url, "8559299898", call))
    page.wait_for_function("document.getElementById('msg').textContent !== ''")
    assert page.inner_text("#msg") == PLACED
    assert page.inner_text("#how") == "false"
    [request] = scripts
    assert request.resource_type == "script" and "callback=jQuery" in request.url
    assert CallAttempt.objects.get().outcome == "placed"


@pytest.mark.parametrize("target,expected", [("8559299898", PLACED), ("2025550143", UNCONFIGURED)])
def test_jquery_get_with_callback_placeholder_and_no_data_type(
    page, customer_site, app_url, jquery, line, outbox, target, expected
):
    """The contract's third form, word for word: jQuery 3 sends it as a CORS request with ``callback=?``."""
    script = JSONP_SCRIPT.format(line=target) + f'$.get("{app_url}/outgoing/?callback=?", info, show);'
    script += '\n$(document).ajaxError(function (e, xhr) { $("#msg").text(xhr.responseJSON.message); });'
    page.goto(_jquery_page(customer_site, script))
    page.wait_for_function("document.getElementById('msg').textContent !== ''")
    assert page.inner_text("#msg") == expected
    assert len(outbox) == (1 if expected == PLACED else 0)


def test_jquery_jsonp_error(page, customer_site, app_url, jquery, line, outbox):
    page.goto(_jsonp_page(customer_site, app_url, "2025550143", "getJSON"))
    page.wait_for_function("document.getElementById('msg').textContent !== ''")
    assert page.inner_text("#msg") == UNCONFIGURED
    assert page.inner_text("#how") == "true"
    assert outbox == []


def test_jquery_jsonp_invalid_input_error(page, customer_site, app_url, jquery, line, outbox):
    script = JSONP_SCRIPT.format(line="8559299898").replace("617.523.2338", "12")
    page.goto(_jquery_page(customer_site, script + JSONP_CALLS["get-jsonp"].format(app=app_url)))
    page.wait_for_function("document.getElementById('msg').textContent !== ''")
    assert page.inner_text("#msg") == INVALID
    assert CallAttempt.objects.get().outcome == "invalid"
