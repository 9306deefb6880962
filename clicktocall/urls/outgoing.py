"""``/outgoing`` (with or without its slash), relative to where it is included."""

from django.urls import re_path

from ..outgoing.views import OutgoingView

urlpatterns = [
    re_path(r"^outgoing/?$", OutgoingView.as_view(), name="outgoing"),
]
