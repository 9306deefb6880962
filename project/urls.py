"""URLs of the project: the app at the root, the admin, and the demo page."""

from django.contrib import admin
from django.urls import include, path

from . import views

urlpatterns = [
    path("", views.demo, name="demo"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("admin/", admin.site.urls),
    path("", include("clicktocall.urls")),
]

handler400 = "clicktocall.errors.bad_request"
