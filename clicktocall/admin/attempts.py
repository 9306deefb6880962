"""Call attempts: read-only, filterable, searchable by any number, fitted to a 1280 px screen.

The list shows the outcome first, in a short label (with a *test* badge on staff's test
calls), the time in the site's time zone with its name, the line only when there are
several, and the scheduled time only while call-backs wait. A number typed in any
format finds the attempts from it or to the line it names; its last four to seven
digits find the candidates.
"""

from __future__ import annotations

from django.contrib import admin
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from .. import callflow
from .. import phone as phones
from ..models import CallAttempt, CampaignLine
from .callflow import CallFlowAttemptAdminMixin
from .export import AttemptExportMixin
from .hours import ScheduledAttemptAdminMixin
from .large_tables import LargeTableMixin
from .search import PhoneSearchMixin

Outcome = CallAttempt.Outcome
SHORT_OUTCOMES = {
    Outcome.PENDING: _("Pending"),
    Outcome.PLACED: _("Placed"),
    Outcome.QUEUED: _("Queued"),
    Outcome.INVALID: _("Invalid"),
    Outcome.INACTIVE: _("Line off"),
    Outcome.THROTTLED: _("Too soon"),
    Outcome.BLOCKED: _("Blocked"),
    Outcome.ERROR: _("Failed"),
}
SHORT_STATUSES = {CallAttempt.Status.SIMULATED: _("Simulated")}
TEST_BADGE = (
    "<span class='ctc-badge' title='A test call placed by staff; left out of the results' "
    "style='margin-left:.4em;padding:0 .4em;border-radius:.3em;background:var(--message-warning-bg,#ffc);"
    "border:1px solid #d6b600;font-size:.8em;'>test</span>"
)


def local_time(moment) -> str:
    """``Nov 30, 14:05 EST``: the site's time zone, named."""
    if moment is None:
        return "—"
    return timezone.localtime(moment).strftime("%b %d, %H:%M %Z")


@admin.register(CallAttempt)
class CallAttemptAdmin(
    PhoneSearchMixin,
    CallFlowAttemptAdminMixin,
    ScheduledAttemptAdminMixin,
    AttemptExportMixin,
    LargeTableMixin,
    admin.ModelAdmin,
):
    list_display = ["outcome_label", "requested", "caller", "name", "call_status", "scheduled_for", "duration", "line"]
    list_display_links = ["outcome_label", "requested"]
    list_filter = ["outcome", "status", "is_test", "line", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["=phone", "name", "email"]
    search_help_text = _(
        "A number in any format (the caller's or the line's), its last 4 to 7 digits, a name or an e-mail."
    )
    date_hierarchy = "created_at"
    list_select_related = ["line"]
    readonly_fields = [*(f.name for f in CallAttempt._meta.fields if f.name != "token"), "call_transcript"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "outcome", "status", "is_test", "line", "phone", "name", "email",
                    "created_at", "answered_at", "ended_at", "duration", "connected_legs",
                ]
            },
        ),
        (_("Transcript"), {"fields": ["call_transcript"]}),
        (_("What the page sent"), {"fields": ["variables", "submitted", "referrer", "client_ip", "user_agent"]}),
        (_("Provider"), {"fields": ["provider_call_id", "error_detail", "updated_at"], "classes": ["collapse"]}),
    ]  # fmt: skip

    class Media:
        css = {"all": ["clicktocall/admin/attempts.css"]}

    def get_fieldsets(self, request, obj=None):
        fieldsets = [(name, dict(options)) for name, options in super().get_fieldsets(request, obj)]
        fieldsets[0][1]["description"] = f"Times are in the site's time zone, {timezone.get_current_timezone_name()}."
        if obj is not None and not (obj.transcript or obj.status == CallAttempt.Status.SIMULATED):
            fieldsets = [fs for fs in fieldsets if fs[1]["fields"] != ["call_transcript"]]
        return fieldsets

    @admin.display(description=_("transcript"))
    def call_transcript(self, obj: CallAttempt) -> str:
        """The transcript kept with a test call; for another simulated call, the line's as it reads now."""
        if obj.transcript:
            return format_html("<pre class='call-transcript' style='white-space: pre-wrap'>{}</pre>", obj.transcript)
        if obj.status != CallAttempt.Status.SIMULATED:
            return "—"
        text = callflow.transcript(obj.line, callflow.attempt_variables(obj))
        return format_html(
            "<p class='help'>{}</p><pre class='call-transcript' style='white-space: pre-wrap'>{}</pre>",
            _("Simulated call: what the line's script, targets and hours give now for the variables it was sent."),
            text,
        )

    def get_list_display(self, request):
        shown = list(super().get_list_display(request))
        if not hasattr(request, "_ctc_several_lines"):  # asked more than once per page: one query
            request._ctc_several_lines = len(CampaignLine.objects.values_list("pk", flat=True)[:2]) > 1
        if "line" in shown and not request._ctc_several_lines:
            shown.remove("line")
        if "scheduled_for" in shown and not CallAttempt.objects.filter(outcome=CallAttempt.Outcome.SCHEDULED).exists():
            shown.remove("scheduled_for")  # the column for call-backs, when some wait
        return shown

    @admin.display(description=_("outcome"), ordering="outcome")
    def outcome_label(self, obj: CallAttempt) -> str:
        label = SHORT_OUTCOMES.get(obj.outcome, obj.get_outcome_display())
        return format_html("{}" + (TEST_BADGE if obj.is_test else ""), label)

    @admin.display(description=_("requested"), ordering="created_at")
    def requested(self, obj: CallAttempt) -> str:
        return local_time(obj.created_at)

    @admin.display(description=_("phone"), ordering="phone")
    def caller(self, obj: CallAttempt) -> str:
        return phones.display(obj.phone) if obj.phone else "—"

    @admin.display(description=_("call"), ordering="status")
    def call_status(self, obj: CallAttempt) -> str:
        return SHORT_STATUSES.get(obj.status, obj.get_status_display())

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
