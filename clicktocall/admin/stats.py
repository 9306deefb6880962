"""A campaign line's results page in the admin, and the embed snippets on its change page.

``LineStatsMixin`` adds ``<line id>/stats/`` (URL name
``admin:clicktocall_campaignline_stats``) to the line's ModelAdmin: calls per day and
the outcomes drawn as server-side SVG charts (with the same numbers in tables), and the
per-target connections and durations, for a chosen date range (the last 30 days unless
chosen). The change page links to it and shows the snippets to paste into a website.
"""

from __future__ import annotations

import csv
import datetime as dt
from urllib.parse import urlencode

from django import forms
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone

from .. import callflow, charts, embed
from ..export import as_attachment, spreadsheet_text
from ..stats import MAX_DAYS, LineStats, default_range, line_stats

DEFAULT_DAYS = 30
# Dates a range may span: the day after the last one must still be a date, in any time zone.
EARLIEST, LATEST = dt.date(1970, 1, 1), dt.date(9998, 12, 31)


class StatsRangeForm(forms.Form):
    """The date range of the stats page, both days included."""

    start = forms.DateField(label="From", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    end = forms.DateField(label="To", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end:
            if start < EARLIEST or end > LATEST:
                raise forms.ValidationError(f"Choose dates from {EARLIEST:%Y-%m-%d} to {LATEST:%Y-%m-%d}.")
            if start > end:
                raise forms.ValidationError("The start date must be on or before the end date.")
            if (end - start).days + 1 > MAX_DAYS:
                raise forms.ValidationError(f"Choose a range of at most {MAX_DAYS} days.")
        return cleaned


def format_duration(seconds: float | None) -> str:
    """``75`` → ``1m 15s``; ``3725`` → ``1h 02m``; ``None`` → ``—``."""
    if seconds is None:
        return "—"
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds}s"
    minutes, secs = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "—"


def optional_url(name: str, args: list, query: dict | None = None) -> str | None:
    """The URL named ``name``, or None while the feature it names is not installed."""
    try:
        url = reverse(name, args=args)
    except NoReverseMatch:
        return None
    return f"{url}?{urlencode(query)}" if query else url


def chart_context(stats: LineStats) -> dict:
    """The SVG charts and table rows of the stats page."""
    day_bars = [
        charts.Bar(
            label=day.date.strftime("%b %d"),
            values=(day.placed, day.requests - day.placed),
            tooltip=f"{day.date:%a %b %d}: {day.requests} requests, {day.placed} placed, {day.refused} refused",
        )
        for day in stats.days
    ]
    per_day = charts.column_chart(
        "ctc-chart-days",
        day_bars,
        title=f"Calls per day, {stats.start:%b %d, %Y} to {stats.end:%b %d, %Y}",
        desc=(
            f"{stats.requests} requests over {len(stats.days)} days, {stats.placed} placed; busiest day "
            + (
                f"{max(stats.days, key=lambda d: d.requests).date:%b %d} with "
                f"{max(d.requests for d in stats.days)} requests."
                if stats.requests
                else "none: no requests in this range."
            )
        ),
        series=["Placed", "Refused or not placed"],
    )
    outcome_rows = [
        ("Requests", stats.requests),
        ("Placed", stats.placed),
        ("Answered", stats.answered),
        ("Connected to a target", stats.connected),
    ] + [(label, count) for _, label, count in stats.refusal_rows]
    outcomes = charts.bar_chart(
        "ctc-chart-outcomes",
        outcome_rows,
        title="Outcomes",
        colors=[charts.COLORS[0]] * 4 + [charts.COLORS[1]] * len(stats.refusal_rows),
        desc=(
            f"Of {stats.requests} requests, {stats.placed} calls were placed, {stats.answered} answered and "
            f"{stats.connected} connected to a target; {stats.refused_total} were refused or failed."
        ),
    )
    target_chart = None
    if stats.targets:
        target_chart = charts.bar_chart(
            "ctc-chart-targets",
            [(row.name or row.number or "(deleted target)", row.connected) for row in stats.targets],
            title="Connections per target",
            desc="How many calls were connected to each target. "
            + "; ".join(f"{row.name or row.number}: {row.connected}" for row in stats.targets),
            color=charts.COLORS[2],
        )
    return {
        "chart_days": per_day,
        "chart_outcomes": outcomes,
        "chart_targets": target_chart,
        "outcome_rows": [(label, count, percent(count, stats.requests)) for label, count in outcome_rows],
        "target_rows": [
            {
                "name": row.name or "(deleted target)",
                "member_id": row.member_id,
                "number": row.number,
                "legs": row.legs,
                "connected": row.connected,
                "rate": percent(row.connected, row.legs),
                "total": format_duration(row.total_duration),
                "average": format_duration(row.average_duration),
            }
            for row in stats.targets
        ],
        "call_time": format_duration(stats.call_seconds),
        "average_call": format_duration(stats.call_seconds / stats.answered if stats.answered else None),
    }


def targets_csv(stats: LineStats, filename: str) -> HttpResponse:
    """The per-target table (per member of Congress on such lines) as CSV."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    writer = csv.writer(response)
    writer.writerow(["target", "member id", "number", "dialed", "connected", "total (s)", "average (s)"])
    for row in stats.targets:
        average = "" if row.average_duration is None else round(row.average_duration)
        writer.writerow(
            [
                spreadsheet_text(row.name),
                row.member_id,
                row.number,
                row.legs,
                row.connected,
                row.total_duration,
                average,
            ]
        )
    return as_attachment(response, filename)


class LineStatsMixin:
    """Adds the stats page and the embed snippets to the campaign line's ModelAdmin."""

    change_form_template = "admin/clicktocall/campaignline/line_change_form.html"

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/stats/",
                self.admin_site.admin_view(self.stats_view),
                name=f"{info[0]}_{info[1]}_stats",
            ),
        ] + super().get_urls()

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None):
        extra_context = dict(extra_context or {})
        line = self.get_object(request, unquote(object_id))
        if line is not None and line.phone_number:
            texts = (line.script, line.closing_message)
            used = {name: default for text in texts for name, default in callflow.defaults(text).items()}
            by_location = line.target_source != line.TargetSource.CUSTOM
            extra_context["embed"] = embed.snippets(line.phone_number, request, variables=used, by_location=by_location)
            extra_context["stats_url"] = reverse(
                f"admin:{self.opts.app_label}_{self.opts.model_name}_stats", args=[line.pk]
            )
        return super().change_view(request, object_id, form_url, extra_context)

    def stats_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        line = self.get_object(request, unquote(object_id))
        if line is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_permission(request, line):
            raise PermissionDenied
        start, end = default_range(DEFAULT_DAYS)
        form = StatsRangeForm(
            request.GET if {"start", "end"} & set(request.GET) else None,
            initial={"start": start, "end": end},
        )
        if form.is_bound and form.is_valid():
            start, end = form.cleaned_data["start"], form.cleaned_data["end"]
        include_tests = request.GET.get("tests") == "1"
        stats = line_stats(line, start, end, include_tests=include_tests)
        query = {"start": start.isoformat(), "end": end.isoformat()}
        if request.GET.get("format") == "csv":
            return targets_csv(stats, f"{line.phone_number}-targets-{start}-{end}.csv")
        zone = timezone.get_current_timezone()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": line,
            "title": f"Results of {line}",
            "subtitle": f"{start:%b %d, %Y} – {end:%b %d, %Y}",
            "form": form,
            "stats": stats,
            "presets": _presets(timezone.localdate()),
            "zone_label": f"{zone} ({timezone.localtime():%Z, UTC%z})",
            "include_tests": include_tests,
            "tests_toggle": urlencode({**query, **({} if include_tests else {"tests": "1"})}),
            "targets_csv_url": "?" + urlencode({**query, **({"tests": "1"} if include_tests else {}), "format": "csv"}),
            "export_url": optional_url(f"admin:{self.opts.app_label}_{self.opts.model_name}_export", [line.pk], query),
            "change_url": reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[line.pk]),
            **chart_context(stats),
        }
        return TemplateResponse(request, "admin/clicktocall/campaignline/stats.html", context)


def _presets(today: dt.date) -> list[tuple[str, str]]:
    """Links for common ranges: ``(label, query string)``."""
    presets = []
    for label, days in (("Last 7 days", 7), ("Last 30 days", 30), ("Last 90 days", 90), ("Last 365 days", 365)):
        start, end = default_range(days, today)
        presets.append((label, urlencode({"start": start.isoformat(), "end": end.isoformat()})))
    return presets
