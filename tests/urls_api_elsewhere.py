"""A project's URLconf with the app's parts mounted under ``calls/``, the results API among them."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path(
        "",
        include(
            (
                [
                    path("", include("clicktocall.urls.outgoing")),
                    path("calls/api/", include("clicktocall.urls.docs")),
                    path("calls/api/v1/", include("clicktocall.urls.api")),
                ],
                "clicktocall",
            )
        ),
    ),
]
