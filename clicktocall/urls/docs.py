"""The human-readable API page and, at ``schema/``, the OpenAPI description of ``/outgoing``."""

from django.urls import path

from ..docs import api_docs
from ..outgoing.schema import OutgoingSchemaView

urlpatterns = [
    path("", api_docs, name="api-docs"),
    path("schema/", OutgoingSchemaView.as_view(), name="schema"),
]
