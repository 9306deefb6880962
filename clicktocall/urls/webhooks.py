"""What the telephony provider calls back (``twilio/voice/<token>/`` …), relative to where it is included."""

from django.urls import path

from ..webhooks import views as webhooks

urlpatterns = [
    path("twilio/voice/<str:token>/", webhooks.voice, name="twilio-voice"),
    path("twilio/status/<str:token>/", webhooks.status, name="twilio-status"),
    path("twilio/gather/<str:token>/", webhooks.gather, name="twilio-gather"),
    path("twilio/dial/<str:token>/<int:position>/", webhooks.dial, name="twilio-dial"),
    path("twilio/zip/<str:token>/<int:tries>/", webhooks.zip_entry, name="twilio-zip"),
    path("twilio/remind/<str:token>/", webhooks.remind, name="twilio-remind"),
    # The same webhooks without the trailing slash: a POST cannot follow a slash redirect.
    path("twilio/voice/<str:token>", webhooks.voice),
    path("twilio/status/<str:token>", webhooks.status),
    path("twilio/gather/<str:token>", webhooks.gather),
    path("twilio/dial/<str:token>/<int:position>", webhooks.dial),
    path("twilio/zip/<str:token>/<int:tries>", webhooks.zip_entry),
    path("twilio/remind/<str:token>", webhooks.remind),
]
