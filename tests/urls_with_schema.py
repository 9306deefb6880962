"""A URLconf where the app's namespace also names a schema view, as when the schema is installed."""

from django.contrib import admin
from django.http import JsonResponse
from django.urls import include, path

import clicktocall.urls


def schema(request):
    return JsonResponse({"openapi": "3.0.3"})


urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include((clicktocall.urls.urlpatterns + [path("api/schema/", schema, name="schema")], "clicktocall"))),
]
