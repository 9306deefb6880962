"""A project's URLconf with the app's /outgoing and webhooks only, no API pages."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path(
        "",
        include(
            (
                [path("", include("clicktocall.urls.outgoing")), path("calls/", include("clicktocall.urls.webhooks"))],
                "clicktocall",
            )
        ),
    ),
]
