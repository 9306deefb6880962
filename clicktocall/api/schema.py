"""The API's part of the app's OpenAPI document: its paths, their error answers, and the webhooks.

``describes(view_class)`` tells the schema's preprocessing which views are the API's;
``complete`` (a postprocessing hook) adds the answers every API operation may give
(400, 401, 403, 404) and describes each webhook event's payload: under ``webhooks``
in an OpenAPI 3.1 document, under ``x-webhooks`` in a 3.0 one.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.settings import spectacular_settings
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.parsers import JSONParser
from rest_framework.views import APIView

from ..events.models import Event
from ..models import CallAttempt, CallLeg

TAG = "results"


def describes(view_class: object) -> bool:
    """Whether ``view_class`` is one of the API's views."""
    from .views import ApiViewSet

    return isinstance(view_class, type) and issubclass(view_class, ApiViewSet)


class WebhookLine(serializers.Serializer):
    id = serializers.IntegerField()
    phone_number = serializers.CharField()
    name = serializers.CharField()


class WebhookLeg(serializers.Serializer):
    position = serializers.IntegerField()
    target_id = serializers.IntegerField(allow_null=True)
    target_name = serializers.CharField()
    target_number = serializers.CharField()
    status = serializers.ChoiceField(choices=CallLeg.Status.choices)
    duration = serializers.IntegerField(allow_null=True)


class WebhookAttempt(serializers.Serializer):
    """The call attempt an event is about. Without personal data: no name, email, phone nor variables; phone_hash."""

    attempt_id = serializers.IntegerField()
    line = WebhookLine()
    outcome = serializers.ChoiceField(choices=CallAttempt.Outcome.choices)
    status = serializers.ChoiceField(choices=CallAttempt.Status.choices, allow_blank=True)
    name = serializers.CharField(required=False)
    email = serializers.CharField(required=False)
    phone = serializers.CharField(required=False, help_text="E.164")
    phone_hash = serializers.CharField(
        required=False, help_text="HMAC-SHA256 (hex) of the E.164 number, keyed with the signing secret."
    )
    variables = serializers.DictField(required=False)
    variables_omitted = serializers.BooleanField(required=False, help_text="true when the variables were too large.")
    created_at = serializers.DateTimeField()
    answered_at = serializers.DateTimeField(allow_null=True)
    ended_at = serializers.DateTimeField(allow_null=True)
    duration = serializers.IntegerField(allow_null=True, help_text="Seconds, once the call ended.")
    connected_legs = serializers.IntegerField()
    is_test = serializers.BooleanField(help_text="A test call staff placed from the line's page.")


class WebhookStatusChange(WebhookAttempt):
    old_status = serializers.CharField(allow_blank=True)
    new_status = serializers.CharField()


class WebhookCompleted(WebhookAttempt):
    legs = WebhookLeg(many=True)


def envelope(event: Event, data: type[serializers.Serializer]) -> type[serializers.Serializer]:
    name = "".join(part.title() for part in event.value.replace(".", "_").split("_")) + "Event"
    fields = {
        "type": serializers.ChoiceField(choices=[event.value]),
        "timestamp": serializers.DateTimeField(help_text="When it happened."),
        "data": data(),
        "Meta": type("Meta", (), {"ref_name": name}),
        "__doc__": event.label,
    }
    return type(name, (serializers.Serializer,), fields)


EXAMPLE = {
    "type": "call.completed",
    "timestamp": "2026-11-30T14:03:22.512Z",
    "data": {
        "attempt_id": 4812,
        "line": {"id": 3, "phone_number": "+18559299898", "name": "Save the park"},
        "outcome": "placed",
        "status": "completed",
        "name": "Ada Lovelace",
        "email": "ada@example.org",
        "phone": "+16175232338",
        "variables": {"zip": "02113"},
        "created_at": "2026-11-30T14:01:05.118Z",
        "answered_at": "2026-11-30T14:01:19Z",
        "ended_at": "2026-11-30T14:03:22Z",
        "duration": 123,
        "connected_legs": 1,
        "is_test": False,
        "legs": [
            {
                "position": 0,
                "target_id": 7,
                "target_name": "Sen. Warren",
                "target_number": "+12022244543",
                "status": "completed",
                "duration": 95,
            }
        ],
    },
}

DATA = {
    Event.CALL_STATUS_CHANGED: WebhookStatusChange,
    Event.CALL_COMPLETED: WebhookCompleted,
}

DESCRIPTION = (
    "POSTed to each endpoint that chose the event, signed as Standard Webhooks (webhook-id, webhook-timestamp, "
    "webhook-signature). Answer 2xx; a 5xx, a 429 or no answer within the endpoint's timeout is retried with the "
    "same webhook-id."
)


def webhook_operations(registry) -> dict[str, Any]:
    """The POST each event makes, with its payload's schema registered as a component.

    Like drf-spectacular's ``process_webhooks``, on a view that names drf-spectacular's
    schema class itself, so that the project's ``DEFAULT_SCHEMA_CLASS`` does not matter.
    """
    result = {}
    for event in Event:
        examples = [OpenApiExample("call.completed", value=EXAMPLE)] if event == Event.CALL_COMPLETED else []
        decorate = extend_schema(request=envelope(event, DATA.get(event, WebhookAttempt)), examples=examples)
        view_class = decorate(type("Receiver", (APIView,), {"schema": AutoSchema(), "parser_classes": [JSONParser]}))
        view = view_class.as_view().cls()
        view.request = spectacular_settings.GET_MOCK_REQUEST("POST", "/", view, None)
        view.kwargs = {}
        schema = view.schema  # set up as the generator would before get_operation()
        schema.registry, schema.method = registry, "POST"
        schema.path, schema.path_regex, schema.path_prefix = "/", "/", ""
        result[event.value] = {
            "post": {
                "summary": str(event.label),
                "description": DESCRIPTION,
                "requestBody": schema._get_request_body("response"),
                "responses": {"2XX": {"description": "Received."}},
            }
        }
    return result


ERRORS = {
    "400": "Invalid filter or date range: {parameter: [messages]}.",
    "401": "No token, or an unknown or revoked one.",
    "403": "The token's user may not view this in the admin.",
    "404": "No such object, or an invalid cursor.",
}
ERROR_SCHEMA = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
}


def complete(result: dict[str, Any], generator, request, public, **kwargs: Any) -> dict[str, Any]:
    """Add the API's error answers and the webhooks to the document."""
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if TAG not in operation.get("tags", []):
                continue
            responses = operation.setdefault("responses", {})
            for status, description in ERRORS.items():
                content = {"application/json": {"schema": {"$ref": "#/components/schemas/ApiError"}}}
                responses.setdefault(status, {"description": description, "content": content})
    webhooks = webhook_operations(generator.registry)
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault("ApiError", ERROR_SCHEMA)
    for name, schema in generator.registry.build({}).get("schemas", {}).items():
        components.setdefault(name, schema)
    key = "webhooks" if spectacular_settings.OAS_VERSION.startswith(("3.1", "3.2")) else "x-webhooks"
    result[key] = webhooks
    return result
