"""The OpenAPI description of ``/outgoing`` (drf-spectacular), served at ``/api/schema/``.

``outgoing_schema`` decorates the view. ``OutgoingSchemaView`` serves the description
with settings of its own, so that neither the project's ``SPECTACULAR_SETTINGS`` nor its
REST framework defaults change it, and ``only_public_endpoints`` keeps every other view
(the provider's webhooks, the schema itself, any view of the project) out of it; the
results API is in it (see ``clicktocall.api.schema``).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.settings import SPECTACULAR_DEFAULTS
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from drf_spectacular.views import SpectacularAPIView
from rest_framework import serializers
from rest_framework.permissions import AllowAny

from ..calls import Outcome
from .params import CALLBACK_MAX, CALLBACK_RE, DATA_MAX_BYTES, EMAIL_MAX, NAME_MAX, URL_MAX

MESSAGES = [outcome.message for outcome in Outcome]  # the call's been placed, then the four refusals

PHONE_HELP = "The constituent's number in any human format, e.g. (617) 523-2338. Alias: CallerID."
LINE_HELP = "The campaign's number: 8559299898, 18559299898 and +18559299898 name the same line."


class OutgoingResult(serializers.Serializer):
    """Every answer of ``/outgoing``: whether it failed, and one of five messages."""

    error = serializers.BooleanField(help_text="false only when the call has been placed")
    message = serializers.ChoiceField(choices=[(m, m) for m in MESSAGES])


class _Fields(serializers.Serializer):
    phone = serializers.CharField(help_text=PHONE_HELP, max_length=64)
    campaign_line = serializers.CharField(help_text=LINE_HELP, max_length=64)
    name = serializers.CharField(required=False, max_length=NAME_MAX, help_text="The constituent's name.")
    email = serializers.EmailField(required=False, max_length=EMAIL_MAX, help_text="The constituent's address.")
    revmsghtml = serializers.URLField(
        required=False,
        max_length=URL_MAX,
        help_text="An absolute http(s) URL to send a browser to afterwards (allowed hosts only).",
    )
    callback = serializers.RegexField(
        CALLBACK_RE.pattern, required=False, max_length=CALLBACK_MAX, help_text="A JSONP function name."
    )


class OutgoingJSONBody(_Fields):
    """A JSON object; ``data`` is an object of variables."""

    data = serializers.DictField(
        required=False, help_text=f"Variables the call can speak (at most {DATA_MAX_BYTES} bytes of JSON)."
    )


class OutgoingFormBody(_Fields):
    """An HTML form's fields; ``data`` is a string of JSON."""

    data = serializers.CharField(
        required=False, help_text=f"A JSON object as text (at most {DATA_MAX_BYTES} bytes): variables."
    )


QUERY_PARAMETERS = [
    OpenApiParameter(
        "phone",
        str,
        description=PHONE_HELP + " Required (here or in the body).",
        examples=[OpenApiExample("us", value="(617) 523-2338")],
    ),
    OpenApiParameter("CallerID", str, description="The older name of phone."),
    OpenApiParameter(
        "campaign_line",
        str,
        description=LINE_HELP + " Required (here or in the body).",
        examples=[OpenApiExample("line", value="8559299898")],
    ),
    OpenApiParameter("name", str, description="The constituent's name."),
    OpenApiParameter("email", str, description="The constituent's address."),
    OpenApiParameter(
        "zip",
        str,
        description="Any other parameter is kept as a variable, like zip. On a line that calls the caller's members "
        "of Congress, zip (5 digits or ZIP+4) finds them, and must be well formed; state and district (MA, 8), or "
        "congressional_district (MA-08), win over it.",
    ),
    OpenApiParameter("data", str, description="A JSON object as text: variables the call can speak."),
    OpenApiParameter("revmsghtml", str, description="An absolute http(s) URL to send a browser to afterwards."),
    OpenApiParameter("callback", str, description="A JSONP function name; the answer is then a script."),
    OpenApiParameter("format", exclude=True),
]

RESULT_EXAMPLES = [
    OpenApiExample("placed", value={"error": False, "message": MESSAGES[0]}, status_codes=["200"], response_only=True),
    *[
        OpenApiExample(f"refused-{n}", value={"error": True, "message": m}, status_codes=["400"], response_only=True)
        for n, m in enumerate(MESSAGES[1:], 1)
    ],
]

RESPONSES: dict[Any, Any] = {
    (200, "application/json"): OpenApiResponse(OutgoingResult, description="The call has been placed."),
    (200, "application/javascript"): OpenApiResponse(
        OpenApiTypes.STR, description='JSONP, for any outcome: /**/callback({"error": …, "message": …});'
    ),
    (200, "text/html"): OpenApiResponse(OpenApiTypes.STR, description="A page showing the message."),
    (302, "text/html"): OpenApiResponse(description="A browser form is sent on to revmsghtml (allowed hosts)."),
    (400, "application/json"): OpenApiResponse(
        OutgoingResult, description="Refused: invalid input, unknown line, too quickly, or an error."
    ),
    (400, "text/html"): OpenApiResponse(OpenApiTypes.STR, description="A page showing the message."),
    (405, "application/json"): OpenApiResponse(OutgoingResult, description="Only GET, POST and OPTIONS."),
}

REQUEST_EXAMPLES = [
    OpenApiExample(
        "form",
        value={"phone": "(617) 523-2338", "campaign_line": "8559299898", "name": "Ada Lovelace", "zip": "02113"},
        request_only=True,
    ),
]

COMMON = {
    "tags": ["outgoing"],
    "responses": RESPONSES,
}

_describe = extend_schema_view(
    get=extend_schema(
        operation_id="outgoing_get",
        summary="Ask for a call (query string)",
        description="The parameters in the query string, as jQuery's $.get and JSONP send them.",
        parameters=QUERY_PARAMETERS,
        request=None,
        examples=RESULT_EXAMPLES,
        **COMMON,
    ),
    post=extend_schema(
        operation_id="outgoing_post",
        summary="Ask for a call (form or JSON body)",
        description="The parameters in the body (which wins over the query string on a clash).",
        parameters=[OpenApiParameter("format", exclude=True)],
        request={
            "application/json": OutgoingJSONBody,
            "application/x-www-form-urlencoded": OutgoingFormBody,
            "multipart/form-data": OutgoingFormBody,
        },
        examples=RESULT_EXAMPLES + REQUEST_EXAMPLES,
        **COMMON,
    ),
)


def outgoing_schema(view: type) -> type:
    """Describe ``GET`` and ``POST`` of the view with drf-spectacular's schema class.

    drf-spectacular builds each method's schema on the method's ``schema``, else on REST
    framework's ``DEFAULT_SCHEMA_CLASS``, which a project may leave at REST framework's own
    (the schema view then fails): the view and its methods name drf-spectacular's.
    """
    view.schema = AutoSchema()
    for method in ("get", "post"):
        getattr(view, method).schema = AutoSchema
    return _describe(view)


def only_public_endpoints(endpoints: list[tuple], **kwargs: Any) -> list[tuple]:
    """Keep ``/outgoing``, where it is mounted, under its path without the optional slash, and the results API."""
    from ..api.schema import describes
    from .views import OutgoingView

    kept = []
    for path, path_regex, method, callback in endpoints:
        view_class = getattr(callback, "cls", None)
        if isinstance(view_class, type) and issubclass(view_class, OutgoingView) and method in ("GET", "POST"):
            kept.append((path.rstrip("/").rstrip("?").rstrip("/"), path_regex, method, callback))
        elif describes(view_class):
            kept.append((path, path_regex, method, callback))
    return kept


SCHEMA_SETTINGS = {
    # Every drf-spectacular default (except those the view takes as attributes), then ours:
    # what the project sets in SPECTACULAR_SETTINGS does not reach this document.
    **{name: value for name, value in SPECTACULAR_DEFAULTS.items() if not name.startswith("SERVE_")},
    "TITLE": "Click-to-Call",
    "DESCRIPTION": "Ask a campaign to phone a constituent: a drop-in replacement for RevereCalling's /outgoing.",
    "VERSION": "1.0.0",
    "PREPROCESSING_HOOKS": ["clicktocall.outgoing.schema.only_public_endpoints"],
    "POSTPROCESSING_HOOKS": ["clicktocall.api.schema.complete"],
    "COMPONENT_SPLIT_REQUEST": True,
}
SCHEMA_SETTINGS.pop("DEFAULT_GENERATOR_CLASS")


class OutgoingSchemaView(SpectacularAPIView):
    """The OpenAPI document of ``/outgoing`` alone, public, whatever the project configures."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []
    versioning_class = None
    generator_class = SchemaGenerator
    serve_public = True
    urlconf = None
    api_version = None
    custom_settings = SCHEMA_SETTINGS
    schema = None  # not itself an endpoint of any schema (REST framework's way to leave a view out)
