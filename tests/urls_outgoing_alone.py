"""A project's URLconf with the app's /outgoing alone."""

from django.urls import include, path

urlpatterns = [path("", include(([path("", include("clicktocall.urls.outgoing"))], "clicktocall")))]
