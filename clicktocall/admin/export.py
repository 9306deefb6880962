"""CSV exports in the admin: an action on attempts, and a line's attempts by date range.

- ``AttemptExportMixin`` adds the action "Export selected attempts as CSV" to the
  attempts changelist (also with "select all", streamed).
- ``LineExportMixin`` adds ``admin:clicktocall_campaignline_export``:
  ``/admin/clicktocall/campaignline/<id>/export/?start=YYYY-MM-DD&end=YYYY-MM-DD``, the
  line's attempts requested from ``start`` to ``end`` inclusive (dates in the site's
  time zone; either may be left out).
"""

from __future__ import annotations

from datetime import date

from django.contrib import admin, messages
from django.contrib.admin.options import Action, ActionLocation
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone

from ..export import csv_response
from ..models import CallAttempt, CampaignLine
from ..stats import bounds

EXPORT_PERMISSION = "clicktocall.view_callattempt"


@admin.action(description="Export selected attempts as CSV")
def export_attempts_csv(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset) -> HttpResponse:
    if not request.user.has_perm(EXPORT_PERMISSION):
        raise PermissionDenied
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    return csv_response(queryset, f"call-attempts-{stamp}.csv")


class AttemptExportMixin:
    """Adds the CSV export action to a ``CallAttempt`` admin, whatever its other actions."""

    def get_actions(self, request: HttpRequest, action_location=ActionLocation.CHANGE_LIST) -> dict:
        actions = super().get_actions(request, action_location=action_location)
        if action_location == ActionLocation.CHANGE_LIST and request.user.has_perm(EXPORT_PERMISSION):
            description = export_attempts_csv.short_description
            actions["export_attempts_csv"] = Action(
                func=export_attempts_csv,
                name="export_attempts_csv",
                description=description,
                plural_description=description,
                locations=[ActionLocation.CHANGE_LIST],
            )
        return actions


def _day(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"{name} must be a date like 2026-01-31, not {value[:40]!r}.") from None


def line_attempts(line: CampaignLine, start: date | None, end: date | None):
    """The attempts of ``line`` requested from ``start`` to ``end`` (both days included)."""
    attempts = CallAttempt.objects.filter(line=line)
    if start:
        attempts = attempts.filter(created_at__gte=bounds(start, start)[0])
    if end:
        attempts = attempts.filter(created_at__lt=bounds(end, end)[1])
    return attempts


class LineExportMixin:
    """Adds the ``export/`` view to the campaign line admin."""

    def get_urls(self):
        info = (self.model._meta.app_label, self.model._meta.model_name)
        urls = [
            path(
                "<path:object_id>/export/",
                self.admin_site.admin_view(self.export_view),
                name="{}_{}_export".format(*info),
            )
        ]
        return urls + super().get_urls()

    def export_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        line = self.get_object(request, object_id)
        if line is None:
            raise Http404("No such campaign line.")
        if not (self.has_view_permission(request, line) and request.user.has_perm(EXPORT_PERMISSION)):
            raise PermissionDenied
        try:
            start = _day(request.GET.get("start"), "start")
            end = _day(request.GET.get("end"), "end")
            if start and end and start > end:
                raise ValueError("start must not be after end.")
        except ValueError as exc:
            self.message_user(request, f"Cannot export: {exc}", messages.ERROR)
            opts = self.model._meta
            return HttpResponseRedirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[line.pk]))
        span = f"{start or 'start'}-to-{end or 'now'}"
        return csv_response(line_attempts(line, start, end), f"attempts-{line.phone_number.lstrip('+')}-{span}.csv")
