"""A project's URLconf with its own /api/ and REST framework views, and the app's parts mounted one by one."""

from django.contrib import admin
from django.http import HttpResponse
from django.urls import include, path
from rest_framework.response import Response
from rest_framework.views import APIView


class InternalView(APIView):
    def get(self, request):
        return Response({"secret": True})


def api_home(request):
    return HttpResponse("the project's own API")


urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", api_home),
    path("api/internal/", InternalView.as_view()),
    path(
        "",
        include(
            (
                [
                    path("", include("clicktocall.urls.outgoing")),
                    path("calls/", include("clicktocall.urls.webhooks")),
                    path("calls/api/", include("clicktocall.urls.docs")),
                ],
                "clicktocall",
            )
        ),
    ),
]
