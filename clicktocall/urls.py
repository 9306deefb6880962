"""URLs of the app. Include them at the site root so ``/outgoing`` is where pages expect it::

    path("", include("clicktocall.urls")),
"""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView

from .docs import api_docs
from .outgoing.views import OutgoingView
from .webhooks import views as webhooks

app_name = "clicktocall"

urlpatterns = [
    re_path(r"^outgoing/?$", OutgoingView.as_view(), name="outgoing"),
    path("api/", api_docs, name="api-docs"),
    path("api/v1/", include("clicktocall.api.urls")),
    path("clicktocall/twilio/voice/<str:token>/", webhooks.voice, name="twilio-voice"),
    path("clicktocall/twilio/status/<str:token>/", webhooks.status, name="twilio-status"),
    path("clicktocall/twilio/gather/<str:token>/", webhooks.gather, name="twilio-gather"),
    path("clicktocall/twilio/dial/<str:token>/<int:position>/", webhooks.dial, name="twilio-dial"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The same webhooks without the trailing slash: a POST cannot follow a slash redirect.
    path("clicktocall/twilio/voice/<str:token>", webhooks.voice),
    path("clicktocall/twilio/status/<str:token>", webhooks.status),
    path("clicktocall/twilio/gather/<str:token>", webhooks.gather),
    path("clicktocall/twilio/dial/<str:token>/<int:position>", webhooks.dial),
]
