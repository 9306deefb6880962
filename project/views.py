"""The demo page (a click-to-call form for the first live line), and the site's icon."""

from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.shortcuts import render
from django.templatetags.static import static

from clicktocall.models import CampaignLine


def demo(request):
    line = CampaignLine.objects.filter(status=CampaignLine.Status.LIVE).order_by("pk").first()
    return render(request, "demo.html", {"line": line})


def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico on every site: send them to the icon."""
    return HttpResponsePermanentRedirect(static("clicktocall/favicon.svg"))
