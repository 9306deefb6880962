"""The baseline: a bare DRF view that inserts one attempt row and answers JSON."""

from __future__ import annotations

from rest_framework.response import Response
from rest_framework.views import APIView

from clicktocall.models import CallAttempt, CampaignLine

_line_ids: dict[str, int] = {}


class BaselineView(APIView):
    """``POST /bench/baseline/`` with ``campaign_line`` and ``phone``: one INSERT, no validation."""

    authentication_classes: list = []
    permission_classes: list = []

    def post(self, request):
        number = request.data.get("campaign_line", "")
        if number not in _line_ids:
            _line_ids[number] = CampaignLine.objects.values_list("pk", flat=True).get(phone_number=number)
        CallAttempt.objects.create(line_id=_line_ids[number], phone=request.data.get("phone", ""), outcome="placed")
        return Response({"error": False, "message": "ok"})
