"""A project's URLconf that mounts the app's parts without their namespace (a mistake the checks report)."""

from django.urls import include, path

urlpatterns = [path("", include("clicktocall.urls.outgoing")), path("calls/", include("clicktocall.urls.webhooks"))]
