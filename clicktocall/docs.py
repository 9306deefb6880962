"""The human-readable API page at ``/api/``: how to call ``/outgoing``, with examples.

The outcome messages come from :class:`clicktocall.calls.Outcome` and the snippets from
:mod:`clicktocall.embed`, so the page cannot drift from what the service answers.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_safe

from . import embed
from .calls import Outcome

EXAMPLE_LINE = "8559299898"

PARAMETERS = [
    (
        "phone",
        "yes",
        "The visitor's number in any human format: (617) 523-2338, 617.523.2338, +1 617 523 2338. "
        "CallerID is accepted as another name for it.",
    ),
    ("campaign_line", "yes", "The campaign's number; 8559299898, 18559299898 and +18559299898 name the same line."),
    ("name", "no", "The visitor's name, at most 255 characters."),
    ("email", "no", "The visitor's email address; when given it must be valid."),
    (
        "data",
        "no",
        "A JSON object (at most 4 KiB) of variables the call's script can speak: a string of JSON in a "
        "query string or form, an object in a JSON body.",
    ),
    (
        "revmsghtml",
        "no",
        "An absolute http(s) URL to send a browser to after a form post. Its host must be the "
        "submitting page's, or listed on the line or in CLICKTOCALL_REDIRECT_HOSTS.",
    ),
    ("callback", "no", "A JSONP function name (letters, digits, _ and $, dotted; at most 128 characters)."),
    (
        "anything else",
        "no",
        "Kept with the request as variables, e.g. zip, first_name, last_name: at most 50, "
        "values of at most 1,024 characters, 8 KiB in all with data's.",
    ),
]

OUTCOMES = [
    (Outcome.PLACED, "The call has been handed to the telephony provider."),
    (
        Outcome.INVALID,
        "A required parameter is missing, or a parameter is malformed (including a number that "
        "cannot be dialed or is outside the allowed destinations).",
    ),
    (Outcome.UNCONFIGURED, "campaign_line names no line, or a paused or archived line."),
    (Outcome.THROTTLED, "The same phone asked the same line too recently, or a rate limit was hit."),
    (Outcome.ERROR, "Anything else: the provider refused or could not be reached, a blocked number, a database error."),
]


def schema_url() -> str | None:
    """The OpenAPI schema's URL, when the schema view is installed."""
    try:
        return reverse("clicktocall:schema")
    except NoReverseMatch:
        return None


def examples(endpoint: str) -> dict[str, str]:
    """Copy-ready examples of the three ways pages call ``/outgoing``, plus curl."""
    origin = endpoint.rstrip("/")
    return {
        "get": (
            '$.get("' + endpoint + '", {\n'
            '  phone: $("#phone").val(),\n'
            '  campaign_line: "' + EXAMPLE_LINE + '",\n'
            '  name: $("#name").val(),\n'
            '  zip: $("#zip").val()\n'
            "}, function (data) {\n"
            '  $("#message").text(data.message);\n'
            "}).fail(function (xhr) {\n"
            '  $("#message").text((xhr.responseJSON || {}).message || "Sorry, there was an error.");\n'
            "});"
        ),
        "jsonp": (
            '$.get("' + endpoint + '?callback=?", {phone: "(617) 523-2338", campaign_line: "' + EXAMPLE_LINE + '"},\n'
            "  function (data) { alert(data.message); });\n"
            "// The request is a <script>: /outgoing/?callback=jQuery3710…&phone=…\n"
            "// The answer is always status 200:\n"
            '// /**/jQuery3710…({"error": false, "message": "The call\'s been placed."});'
        ),
        "curl": (
            f"curl -s {origin} \\\n"
            "  -H 'Content-Type: application/json' \\\n"
            f'  -d \'{{"phone": "(617) 523-2338", "campaign_line": "{EXAMPLE_LINE}",\n'
            '       "data": {"zip": "02113"}}\'\n'
            '# answers {"error": false, "message": "The call\'s been placed."}'
        ),
    }


@require_safe
def api_docs(request: HttpRequest) -> HttpResponse:
    snippets = embed.snippets(EXAMPLE_LINE, request)
    return render(
        request,
        "clicktocall/api.html",
        {
            "endpoint": snippets.endpoint,
            "parameters": PARAMETERS,
            "outcomes": [(o.status, o.message, why) for o, why in OUTCOMES],
            "snippets": snippets,
            "examples": examples(snippets.endpoint),
            "schema_url": schema_url(),
        },
    )
