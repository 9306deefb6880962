"""Where a line's targets come from, on its page: the source's options, the data, a ZIP code look-up."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from .. import targets
from ..models import CampaignLine, CongressDataset
from ..targets.us_congress import location
from .callflow import viewable_line

TARGET_FIELDS = [
    "target_source",
    "congress_chambers",
    "congress_order",
    "congress_shuffle",
    "congress_max",
    "congress_custom",
    "congress_split",
    "congress_office",
    "congress_office_fallback",
    "caller_id",
    "us_congress_data",
]
LOOKUP_KEYS = ("zip", "state", "district", "congressional_district")
LOOKUP_FORM = "ctc-target-lookup"


class TargetSourceLineAdminMixin:
    """A "Targets" section on the line's page, and a page that shows whom a ZIP code would call."""

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [*super().get_readonly_fields(request, obj), "us_congress_data"]  # type: ignore[misc]

    def get_urls(self) -> list[Any]:
        opts = self.model._meta  # type: ignore[attr-defined]
        view = self.admin_site.admin_view(self.target_lookup_view)  # type: ignore[attr-defined]
        name = f"{opts.app_label}_{opts.model_name}_target_lookup"
        return [path("<path:object_id>/targets/", view, name=name), *super().get_urls()]  # type: ignore[misc]

    @admin.display(description="US Congress data")
    def us_congress_data(self, obj: CampaignLine | None) -> str:
        dataset = CongressDataset.objects.first()
        data = (
            format_html("version {}, released {}", dataset.version, dataset.released)
            if dataset
            else "not loaded yet (loaded on first use)"
        )
        if obj is None or obj.pk is None:
            return data
        # The box belongs to a form of its own, outside the line's form (see line_change_form.html).
        return format_html(
            "{}.<br><label for='ctc-lookup-zip'>Whom would a call connect to, for the ZIP code</label> "
            "<input id='ctc-lookup-zip' type='text' name='zip' form='{}' inputmode='numeric' maxlength='10' "
            "size='10' autocomplete='off'> <button type='submit' class='button' form='{}'>Look up</button>",
            data,
            LOOKUP_FORM,
            LOOKUP_FORM,
        )

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None):
        extra_context = dict(extra_context or {})
        opts = self.model._meta  # type: ignore[attr-defined]
        extra_context["target_lookup_form"] = LOOKUP_FORM
        extra_context["target_lookup_url"] = reverse(
            f"admin:{opts.app_label}_{opts.model_name}_target_lookup", args=[unquote(object_id)]
        )
        return super().change_view(request, object_id, form_url, extra_context)  # type: ignore[misc]

    def target_lookup_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        line = viewable_line(self, request, object_id)
        given = {key: request.GET.get(key, "").strip()[:32] for key in LOOKUP_KEYS}
        asked = any(given.values())
        problems = targets.request_problems(line, given) if asked else {}
        resolution = targets.resolve(line, given) if asked and not problems else None
        context = {
            **self.admin_site.each_context(request),  # type: ignore[attr-defined]
            "opts": self.model._meta,  # type: ignore[attr-defined]
            "original": line,
            "title": f"Targets of {line}",
            "given": given,
            "asked": asked,
            "problems": problems,
            "resolution": resolution,
            "location": location.read(given)[0] if asked else None,
            "dataset": CongressDataset.objects.first(),
        }
        return TemplateResponse(request, "admin/clicktocall/campaignline/target_lookup.html", context)
