"""The demo page: a click-to-call form for the first active line."""

from django.shortcuts import render

from clicktocall.models import CampaignLine


def demo(request):
    line = CampaignLine.objects.filter(status=CampaignLine.Status.LIVE).order_by("pk").first()
    return render(request, "demo.html", {"line": line})
