"""The queue of calls waiting for the provider's pace, per line and overall, in the admin.

``LineQueueMixin`` adds ``queue/`` to the campaign lines' ModelAdmin (URL name
``admin:clicktocall_campaignline_queue``), linked from the lines' list: calls waiting,
the wait they make at the paced rate (``CLICKTOCALL_PROVIDER_CPS``), calls placed in the
last minute, and a warning when the wait approaches ``CLICKTOCALL_MAX_QUEUE_WAIT``.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path

from .. import pacing


class LineQueueMixin:
    change_list_template = "admin/clicktocall/campaignline/change_list.html"

    def get_urls(self):
        opts = self.model._meta  # type: ignore[attr-defined]
        view = self.admin_site.admin_view(self.queue_view)  # type: ignore[attr-defined]
        name = f"{opts.app_label}_{opts.model_name}_queue"
        return [path("queue/", view, name=name), *super().get_urls()]  # type: ignore[misc]

    def queue_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):  # type: ignore[attr-defined]
            raise PermissionDenied
        figures = pacing.queue_figures()
        context = {
            **self.admin_site.each_context(request),  # type: ignore[attr-defined]
            "opts": self.model._meta,  # type: ignore[attr-defined]
            "title": "Calls waiting for the provider",
            "figures": figures,
        }
        return TemplateResponse(request, "admin/clicktocall/campaignline/queue.html", context)
