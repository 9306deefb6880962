"""Campaign lines: the form staff fill in, in the order they think, and the list of lines.

``LINE_FIELDSETS`` is the one place that orders the form: the basics, what the call
says, where the targets come from, the line's own targets (listed inline), then the
human check, the closing, the office hours, the preview and, collapsed as *Advanced*,
the thank-you page hosts and the limits. A fieldset whose classes hold
``AFTER_TARGETS`` is shown below the targets; the mixins of other concerns (targets,
hours) add their fields' behaviour, and their sections are placed here.
"""

from __future__ import annotations

import phonenumbers
from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .. import phone as phones
from .. import voices
from ..conf import conf
from ..models import CampaignLine
from .callflow import CallFlowLineAdminMixin
from .export import LineExportMixin
from .hours import HOURS_FIELDS, OfficeHoursLineAdminMixin
from .queue import LineQueueMixin
from .search import PhoneSearchMixin
from .stats import LineStatsMixin
from .targets import TARGET_FIELDS, TargetSourceLineAdminMixin
from .testcall import TestCallMixin

AFTER_TARGETS = "ctc-after-targets"
# Fieldsets only an existing line has.
CHANGE_ONLY = {"call_preview", "created_at", "updated_at"}

LINE_FIELDSETS = [
    (None, {"fields": ["name", "phone_number", "status"]}),
    (
        _("What the call says"),
        {
            "fields": ["script", "language", "voice", "script_audio_url"],
            "description": _(
                'Write {{ name }} or {{ zip }} to speak what the visitor typed, and {{ park_name | "the park" }} '
                "for a variable the page sends, with what to say when it sends none."
            ),
        },
    ),
    (_("Targets"), {"fields": TARGET_FIELDS}),  # where they come from; the line's own are listed below it
    (_("Human check"), {"fields": ["human_check", "machine_action"], "classes": [AFTER_TARGETS]}),
    (_("Closing"), {"fields": ["closing_message"], "classes": [AFTER_TARGETS]}),
    (_("Office hours"), {"fields": HOURS_FIELDS, "classes": [AFTER_TARGETS]}),
    (_("Preview"), {"fields": ["call_preview"], "classes": [AFTER_TARGETS]}),
    (
        _("Advanced"),
        {
            "fields": ["redirect_hosts", "cooldown_seconds", "daily_cap", "allowed_countries"],
            "classes": ["collapse", AFTER_TARGETS],
            "description": _("Where visitors may be sent afterwards, and the limits that protect the line."),
        },
    ),
    (_("History"), {"fields": ["created_at", "updated_at"], "classes": ["collapse", AFTER_TARGETS]}),
]


def clean_countries(value: str) -> str:
    codes = phones.country_codes(value)
    unknown = [code for code in codes if code not in phonenumbers.SUPPORTED_REGIONS]
    if unknown:
        raise forms.ValidationError(_("Unknown country codes: %(codes)s."), params={"codes": ", ".join(unknown)})
    return ", ".join(codes)


def limit_help() -> dict[str, str]:
    """Help texts that show the site's defaults as numbers (read now: settings may change)."""
    cooldown, cap, countries = conf.COOLDOWN_SECONDS, conf.DAILY_CAP, conf.ALLOWED_COUNTRIES
    return {
        "cooldown_seconds": (
            f"How long the same phone must wait before asking this line again. Empty = {cooldown} seconds, "
            "the site's default" + ("" if cooldown else " (no wait)") + ". 0 = no wait."
        ),
        "daily_cap": (
            f"Most calls this line places in a day. Empty = {cap} calls a day, the site's default"
            + ("" if cap else " (no cap)")
            + ". 0 = no cap."
        ),
        "allowed_countries": (
            "The countries whose numbers this line may call, as two-letter codes separated by commas (e.g. US, CA). "
            + (
                f"Empty = {', '.join(countries)}, the site's default."
                if countries
                else "Empty = the country of the campaign's phone number, the site's default."
            )
        ),
    }


class LineForm(forms.ModelForm):
    """Voices and languages chosen from the supported ones; limits with their defaults spelled out."""

    voice = forms.CharField(
        label=_("Voice"),
        required=False,
        widget=forms.Select(attrs={"class": "ctc-voice"}),
        help_text=_("The text-to-speech voice that speaks the script. Its language must be the line's language."),
    )
    language = forms.CharField(
        label=_("Language"),
        widget=forms.Select(attrs={"class": "ctc-language"}),
        help_text=_("The language the script is written in."),
    )

    class Meta:
        model = CampaignLine
        fields = "__all__"
        labels = {
            "cooldown_seconds": _("Wait between two calls to the same person (seconds)"),
            "daily_cap": _("Most calls a day"),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, choices in (("voice", voices.voice_choices()), ("language", voices.language_choices())):
            self.fields[name].widget.choices = choices
            self.fields[name].initial = CampaignLine._meta.get_field(name).default
        for name, text in limit_help().items():
            if name in self.fields:
                self.fields[name].help_text = text

    def clean_allowed_countries(self) -> str:
        return clean_countries(self.cleaned_data.get("allowed_countries", ""))

    def clean(self) -> dict:
        data = super().clean()
        voice, language = (data.get("voice") or "").strip(), (data.get("language") or "").strip()
        if "language" in data:
            problem = voices.voice_problem(voice, language)
            if problem:
                self.add_error("language" if language not in voices.languages() else "voice", problem)
        return data


class StatusFilter(admin.SimpleListFilter):
    """Live and paused lines by default; archived ones when asked for."""

    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [("current", _("Live or paused")), *CampaignLine.Status.choices, ("all", _("All"))]

    def choices(self, changelist):
        for value, label in self.lookup_choices:
            yield {
                "selected": (self.value() or "current") == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": label,
            }

    def queryset(self, request, queryset):
        value = self.value() or "current"
        if value == "current":
            return queryset.exclude(status=CampaignLine.Status.ARCHIVED)
        if value in CampaignLine.Status.values:
            return queryset.filter(status=value)
        return queryset


@admin.register(CampaignLine)
class CampaignLineAdmin(
    PhoneSearchMixin,
    TestCallMixin,
    LineQueueMixin,
    OfficeHoursLineAdminMixin,
    TargetSourceLineAdminMixin,
    LineStatsMixin,
    LineExportMixin,
    CallFlowLineAdminMixin,
    admin.ModelAdmin,
):
    form = LineForm
    list_display = ["name", "phone_number", "status", "updated_at"]
    list_display_links = ["name", "phone_number"]
    list_filter = [StatusFilter]
    search_fields = ["phone_number", "name"]
    search_help_text = _("A campaign's name, or its number in any format.")
    readonly_fields = ["created_at", "updated_at"]
    fieldsets = LINE_FIELDSETS

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            fieldsets = [fs for fs in fieldsets if not CHANGE_ONLY.issuperset(fs[1]["fields"])]
        return fieldsets
