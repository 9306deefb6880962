"""Campaign lines and the call attempts made through them."""

from __future__ import annotations

import datetime
import re
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from . import phone
from .hosts import allowed_host_problem, ascii_host, is_allowed, lowered
from .hours.fields import WeekdaysField, validate_dates, validate_time_zone


def new_token() -> str:
    """An unguessable token that ties provider webhooks to one attempt."""
    return secrets.token_urlsafe(24)


def validate_e164(value: str) -> None:
    try:
        normalized = phone.normalize(value)
    except phone.InvalidNumber as exc:
        raise ValidationError(_("Enter a valid phone number.")) from exc
    if normalized != value:
        raise ValidationError(_("Store the number in E.164 form, e.g. %(n)s."), params={"n": normalized})


def split_hosts(text: str) -> list[str]:
    """Host names written one per line, or separated by commas or spaces, lowercased."""
    return [lowered(host) for host in re.split(r"[\s,]+", text or "") if host]


class NormalizedPhoneNumber:
    """For models whose ``phone_number`` may be typed in any human format: it is stored in E.164."""

    phone_number: str

    def clean_fields(self, exclude=None) -> None:
        # Normalize before the field's E.164 validator runs; an invalid number is left to it.
        if self.phone_number and "phone_number" not in (exclude or ()):
            try:
                self.phone_number = phone.normalize(self.phone_number)
            except phone.InvalidNumber:
                pass
        super().clean_fields(exclude)  # type: ignore[misc]


class CampaignLine(NormalizedPhoneNumber, models.Model):
    """A campaign's phone number: the caller id of the calls it places."""

    class Status(models.TextChoices):
        LIVE = "live", _("Live")
        PAUSED = "paused", _("Paused")
        ARCHIVED = "archived", _("Archived")

    phone_number = models.CharField(
        _("campaign phone number"),
        max_length=16,
        unique=True,
        validators=[validate_e164],
        help_text=_(
            "The number people see when the campaign calls them, e.g. (855) 929-9898. Type it in any format; "
            "it is stored in international (E.164) form, e.g. +18559299898."
        ),
    )
    name = models.CharField(_("campaign name"), max_length=255, blank=True)
    status = models.CharField(
        _("status"),
        max_length=8,
        choices=Status.choices,
        default=Status.LIVE,
        db_default=Status.LIVE,
        help_text=_(
            "Live: the line places calls. Paused: every request is refused, as for an unknown line. "
            "Archived: paused, and hidden from the list of lines; its results are kept."
        ),
    )
    redirect_hosts = models.TextField(
        _("thank-you page hosts"),
        blank=True,
        help_text=_(
            "Websites your form may send visitors to after they ask for a call, one per line (e.g. "
            "www.example.org; .example.org also allows its subdomains). The page with the form is always "
            "allowed. Developers: the hosts the revmsghtml parameter may redirect to."
        ),
    )
    # The call script
    script = models.TextField(
        _("script"),
        blank=True,
        help_text=_(
            "Spoken with text-to-speech when the call is answered. Variables: {{ name }}, {{ zip }} "
            "and any key the page sent in data or as an extra parameter."
        ),
    )
    script_audio_url = models.URLField(
        _("recorded script (audio file address)"),
        blank=True,
        help_text=_("The address of an MP3 or WAV file to play instead of speaking the script."),
    )
    voice = models.CharField(_("voice"), max_length=64, default="Polly.Joanna", blank=True)
    language = models.CharField(_("language"), max_length=16, default="en-US")
    closing_message = models.TextField(
        _("closing message"), blank=True, default="Thank you for making your voice heard. Goodbye."
    )

    class HumanCheck(models.TextChoices):
        PRESS_ONE = "press1", _("Ask the person to press 1 before connecting")
        MACHINE_DETECTION = "amd", _("Twilio answering-machine detection, then press 1")
        NONE = "none", _("No check (not recommended)")

    class MachineAction(models.TextChoices):
        HANG_UP = "hangup", _("Hang up")
        LEAVE_MESSAGE = "message", _("Leave the script as a message")

    human_check = models.CharField(
        _("human check"), max_length=8, choices=HumanCheck.choices, default=HumanCheck.PRESS_ONE
    )
    machine_action = models.CharField(
        _("when a machine answers"), max_length=8, choices=MachineAction.choices, default=MachineAction.HANG_UP
    )

    # Limits
    cooldown_seconds = models.PositiveIntegerField(
        _("cooldown (seconds)"),
        null=True,
        blank=True,
        help_text=_("How long the same phone must wait before asking this line again. Empty: the site default."),
    )
    daily_cap = models.PositiveIntegerField(
        _("daily cap"), null=True, blank=True, help_text=_("Most calls placed per day. Empty: the site default.")
    )
    allowed_countries = models.CharField(
        _("allowed destination countries"),
        max_length=255,
        blank=True,
        help_text=_("Two-letter country codes, comma-separated. Empty: the line's own country."),
    )

    # Targets: where they come from (see clicktocall.targets)
    class TargetSource(models.TextChoices):
        CUSTOM = "custom", _("The line's own targets")
        US_CONGRESS = "us-congress", _("The caller's members of the US Congress (from their ZIP code)")

    class Chambers(models.TextChoices):
        BOTH = "both", _("Senate and House")
        SENATE = "senate", _("Senate only")
        HOUSE = "house", _("House only")

    class ChamberOrder(models.TextChoices):
        SENATE_FIRST = "senate-first", _("Senate first")
        HOUSE_FIRST = "house-first", _("House first")

    class CustomTargets(models.TextChoices):
        NONE = "none", _("Not called")
        BEFORE = "before", _("Before the members")
        AFTER = "after", _("After the members")
        FALLBACK = "fallback", _("Only when no member is found")

    class SplitZip(models.TextChoices):
        ALL = "all", _("Call every member who may represent it")
        SINGLE = "single", _("Only when the ZIP code is in one district (else the fallback)")

    class Office(models.TextChoices):
        DC = "dc", _("The Washington, DC office")
        DISTRICT = "district", _("The nearest district office")

    class CallerId(models.TextChoices):
        LINE = "line", _("The campaign line's number")
        CALLER = "caller", _("The caller's own number")

    target_source = models.CharField(
        _("targets from"), max_length=16, choices=TargetSource.choices, default=TargetSource.CUSTOM
    )
    congress_chambers = models.CharField(_("chambers"), max_length=8, choices=Chambers.choices, default=Chambers.BOTH)
    congress_order = models.CharField(
        _("order"), max_length=16, choices=ChamberOrder.choices, default=ChamberOrder.SENATE_FIRST
    )
    congress_shuffle = models.BooleanField(
        _("shuffle within a chamber"),
        default=False,
        help_text=_("Each call takes the members of a chamber in its own order (senior senator first otherwise)."),
    )
    congress_max = models.PositiveSmallIntegerField(
        _("at most"), null=True, blank=True, help_text=_("Most members called. Empty: all of them.")
    )
    congress_custom = models.CharField(
        _("the line's own targets"), max_length=8, choices=CustomTargets.choices, default=CustomTargets.NONE
    )
    congress_split = models.CharField(
        _("a ZIP code in several districts"), max_length=8, choices=SplitZip.choices, default=SplitZip.ALL
    )
    congress_office = models.CharField(_("office dialed"), max_length=8, choices=Office.choices, default=Office.DC)
    congress_office_fallback = models.BooleanField(
        _("try the member's next office"),
        default=False,
        help_text=_("When an office is busy or does not answer, dial another office of the same member first."),
    )
    caller_id = models.CharField(
        _("number shown to targets"), max_length=8, choices=CallerId.choices, default=CallerId.LINE
    )

    # Office hours (see clicktocall.hours)
    class OutsideHours(models.TextChoices):
        CALL_NOW = "call-now", _("Call now anyway")
        CALL_BACK = "call-back", _("Call back when the offices open")
        REFUSE = "refuse", _("Refuse the request")

    hours_enabled = models.BooleanField(
        _("keep office hours"),
        default=False,
        help_text=_("Off: calls are placed at any time and every target is dialed."),
    )
    hours_days = WeekdaysField(_("open on"), default="12345", blank=True)
    hours_opens = models.TimeField(_("opens at"), default=datetime.time(9))
    hours_closes = models.TimeField(_("closes at"), default=datetime.time(17))
    hours_time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        blank=True,
        validators=[validate_time_zone],
        help_text=_(
            "E.g. America/Chicago. Empty: each target's own (Washington's for the DC offices of Congress, "
            "the office's own for district offices)."
        ),
    )
    hours_us_holidays = models.BooleanField(_("closed on US federal holidays"), default=True)
    hours_closed_dates = models.TextField(
        _("other closed dates"),
        blank=True,
        validators=[validate_dates],
        help_text=_("One date per line, YYYY-MM-DD, a note may follow (e.g. 2026-12-24 Christmas Eve)."),
    )
    hours_open_dates = models.TextField(
        _("open after all on"),
        blank=True,
        validators=[validate_dates],
        help_text=_("Holidays on which the offices open all the same, one date per line."),
    )
    outside_hours = models.CharField(
        _("a request outside the hours"),
        max_length=16,
        choices=OutsideHours.choices,
        default=OutsideHours.CALL_BACK,
    )
    reminder_count = models.PositiveSmallIntegerField(
        _("reminders"),
        default=0,
        help_text=_(
            "After the last target the caller may press 2 to be called again at the same time on the next "
            "weekday, this many times (pressing 9 on any of those calls stops them). 0: not offered."
        ),
    )

    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["name", "phone_number"]
        verbose_name = _("campaign line")
        verbose_name_plural = _("campaign lines")

    def __str__(self) -> str:
        label = phone.display(self.phone_number)
        return f"{self.name} ({label})" if self.name else label

    @property
    def is_active(self) -> bool:
        """Whether the line places calls (it is live); setting it pauses or resumes the line."""
        return self.status == self.Status.LIVE

    @is_active.setter
    def is_active(self, value: bool) -> None:
        self.status = self.Status.LIVE if value else self.Status.PAUSED

    def clean(self) -> None:
        """Redirect hosts are stored one per line; each must be a host name. Hours kept need a day."""
        super().clean()
        if self.hours_enabled and not self.hours_days:
            raise ValidationError({"hours_days": _("Tick the days the offices open, or stop keeping office hours.")})
        hosts = split_hosts(self.redirect_hosts)
        problems = [problem for problem in map(allowed_host_problem, hosts) if problem]
        if problems:
            raise ValidationError({"redirect_hosts": problems})
        self.redirect_hosts = "\n".join(hosts)

    @property
    def redirect_host_list(self) -> list[str]:
        return [host for host in split_hosts(self.redirect_hosts) if host != "*"]

    def allows_redirect_to(self, host: str) -> bool:
        return is_allowed(ascii_host(host), self.redirect_host_list)


class CallAttempt(models.Model):
    """One request to /outgoing that named a known line, and the call it led to."""

    class Outcome(models.TextChoices):
        PENDING = "pending", _("Pending")
        PLACED = "placed", _("Placed")
        QUEUED = "queued", _("Queued for placement")
        INVALID = "invalid", _("Refused: invalid input")
        INACTIVE = "inactive", _("Refused: line switched off")
        THROTTLED = "throttled", _("Refused: too quickly")
        BLOCKED = "blocked", _("Refused: blocked")
        BUSY = "busy", _("Refused: busy")
        EXPIRED = "expired", _("Not placed: waited too long")
        ERROR = "error", _("Failed: provider or system error")
        UNKNOWN = "unknown", _("Unknown: the provider's answer did not arrive")
        SCHEDULED = "scheduled", _("Scheduled")
        OUTSIDE_HOURS = "outside-hours", _("Refused: outside hours")
        CANCELED = "canceled", _("Scheduled, then cancelled")

    class Status(models.TextChoices):
        NONE = "", _("—")
        QUEUED = "queued", _("Queued")
        INITIATED = "initiated", _("Initiated")
        RINGING = "ringing", _("Ringing")
        IN_PROGRESS = "in-progress", _("In progress")
        COMPLETED = "completed", _("Completed")
        BUSY = "busy", _("Busy")
        NO_ANSWER = "no-answer", _("No answer")
        FAILED = "failed", _("Failed")
        CANCELED = "canceled", _("Canceled")
        SIMULATED = "simulated", _("Simulated (not dialed)")

    line = models.ForeignKey(CampaignLine, on_delete=models.PROTECT, related_name="attempts", verbose_name=_("line"))
    token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    phone = models.CharField(_("phone"), max_length=16, blank=True, help_text=_("E.164; empty when invalid."))
    name = models.CharField(_("name"), max_length=255, blank=True)
    email = models.CharField(_("email"), max_length=254, blank=True)
    variables = models.JSONField(_("variables"), default=dict, blank=True)
    submitted = models.JSONField(
        _("submitted parameters"),
        default=dict,
        blank=True,
        help_text=_("The raw values of the parameters not kept elsewhere on the attempt (bounded)."),
    )
    client_ip = models.GenericIPAddressField(_("client IP"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=512, blank=True)
    referrer = models.CharField(_("referring page"), max_length=2048, blank=True)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices, default=Outcome.PENDING)
    status = models.CharField(_("call status"), max_length=16, choices=Status.choices, default="", blank=True)
    provider_call_id = models.CharField(
        _("call reference"), max_length=64, blank=True, db_index=True, help_text=_("The provider's call id (Call SID).")
    )
    error_detail = models.TextField(_("error detail"), blank=True)
    is_test = models.BooleanField(
        _("test call"),
        default=False,
        db_default=False,
        help_text=_("Placed by staff from the line's page; left out of the results."),
    )
    transcript = models.TextField(
        _("transcript"),
        blank=True,
        db_default="",
        help_text=_("What the call said and did, when it was simulated (not dialed)."),
    )
    created_at = models.DateTimeField(_("requested"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    placed_at = models.DateTimeField(
        _("placed"), null=True, blank=True, help_text=_("When the provider took the call.")
    )
    provider_queue_time = models.PositiveIntegerField(
        _("provider queue time (ms)"),
        null=True,
        blank=True,
        help_text=_("How long the call waited in the provider's own queue before it was dialed, as the provider said."),
    )
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    duration = models.PositiveIntegerField(_("duration (s)"), null=True, blank=True)
    connected_legs = models.PositiveSmallIntegerField(
        _("connected targets"),
        default=0,
        db_default=0,
        editable=False,
        help_text=_("How many of its target legs connected."),
    )
    scheduled_for = models.DateTimeField(_("scheduled for"), null=True, blank=True, editable=False)
    reminder = models.PositiveSmallIntegerField(
        _("reminder"), default=0, editable=False, help_text=_("0: asked for on a page; n: the n-th reminder.")
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("call attempt")
        verbose_name_plural = _("call attempts")
        indexes = [
            models.Index(fields=["line", "phone", "-created_at"], name="ctc_attempt_cooldown"),
            # Also covers every column the results page aggregates (an index-only scan).
            models.Index(
                fields=["line", "-created_at", "outcome", "connected_legs", "answered_at", "duration"],
                name="ctc_attempt_line_date",
            ),
            models.Index(fields=["outcome", "-created_at"], name="ctc_attempt_outcome_date"),
            models.Index(fields=["status", "-created_at"], name="ctc_attempt_status_date"),
            models.Index(fields=["-created_at"], name="ctc_attempt_date"),
            models.Index(fields=["phone"], name="ctc_attempt_phone"),
            # The few test calls, which the results page leaves out.
            models.Index(fields=["line", "created_at"], condition=models.Q(is_test=True), name="ctc_attempt_test"),
            # The results API's incremental sync: attempts changed since a time, oldest change first.
            models.Index(fields=["updated_at"], name="ctc_attempt_updated"),
        ]

    def __str__(self) -> str:
        line = phone.display(self.line.phone_number) if self.line_id else "?"
        return f"{self.phone or '?'} → {line} ({self.get_outcome_display()})"


class Target(NormalizedPhoneNumber, models.Model):
    """Someone the caller is connected to after the script, in order (e.g. a legislator's office)."""

    line = models.ForeignKey(CampaignLine, on_delete=models.CASCADE, related_name="targets", verbose_name=_("line"))
    position = models.PositiveIntegerField(_("position"), default=0)
    name = models.CharField(_("name"), max_length=255)
    phone_number = models.CharField(_("phone number"), max_length=16, validators=[validate_e164])
    extension = models.CharField(
        _("extension digits"),
        max_length=32,
        blank=True,
        validators=[RegexValidator(r"^[0-9wW#*]*$", _("Digits, #, * and w/W (pauses) only."))],
        help_text=_("Sent after the target answers, e.g. wwww123#."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        blank=True,
        validators=[validate_time_zone],
        help_text=_("The office's time zone, e.g. America/Denver. Empty: the line's."),
    )
    hours_days = WeekdaysField(_("open on"), blank=True, help_text=_("None ticked: the line's days."))
    hours_opens = models.TimeField(_("opens at"), null=True, blank=True, help_text=_("Empty: the line's."))
    hours_closes = models.TimeField(_("closes at"), null=True, blank=True, help_text=_("Empty: the line's."))

    class Meta:
        ordering = ["line", "position", "pk"]
        verbose_name = _("target")
        verbose_name_plural = _("targets")

    def __str__(self) -> str:
        return f"{self.name} ({phone.display(self.phone_number)})"


class CallLeg(models.Model):
    """One connection attempt from a call to a target, with its own outcome."""

    class Status(models.TextChoices):
        DIALING = "dialing", _("Dialing")
        COMPLETED = "completed", _("Connected")
        BUSY = "busy", _("Busy")
        NO_ANSWER = "no-answer", _("No answer")
        FAILED = "failed", _("Failed")
        CANCELED = "canceled", _("Canceled")
        SKIPPED = "skipped", _("Skipped by caller")
        CLOSED = "closed", _("Skipped: office closed")

    attempt = models.ForeignKey(CallAttempt, on_delete=models.CASCADE, related_name="legs", verbose_name=_("attempt"))
    target = models.ForeignKey(
        Target, on_delete=models.SET_NULL, null=True, blank=True, related_name="legs", verbose_name=_("target")
    )
    position = models.PositiveIntegerField(_("position"), default=0)
    target_name = models.CharField(_("target name"), max_length=255, blank=True)
    target_number = models.CharField(_("target number"), max_length=16, blank=True)
    member_id = models.CharField(_("member (bioguide id)"), max_length=16, blank=True, db_index=True)
    office_id = models.CharField(_("office"), max_length=96, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.DIALING)
    provider_call_id = models.CharField(_("provider call id"), max_length=64, blank=True)
    started_at = models.DateTimeField(_("started"), auto_now_add=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    duration = models.PositiveIntegerField(_("duration (s)"), null=True, blank=True)
    # Copies of the attempt's line and request time (set on save), so the results page reads legs alone.
    line = models.ForeignKey(
        CampaignLine, on_delete=models.PROTECT, related_name="+", db_index=False, editable=False, verbose_name=_("line")
    )
    requested_at = models.DateTimeField(_("requested"), editable=False)

    class Meta:
        ordering = ["attempt", "position", "pk"]
        verbose_name = _("target leg")
        verbose_name_plural = _("target legs")
        indexes = [
            models.Index(fields=["target", "-started_at"], name="ctc_leg_target_date"),
            models.Index(
                fields=["line", "requested_at", "target", "status", "duration", "target_name", "target_number"],
                name="ctc_leg_line_stats",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.target_name or self.target_number} ({self.get_status_display()})"

    def save(self, *args, **kwargs) -> None:
        if self.line_id is None:
            self.line_id = self.attempt.line_id
        if self.requested_at is None:
            self.requested_at = self.attempt.created_at
        super().save(*args, **kwargs)


class PaceState(models.Model):
    """When the next call of a shared pace may go (seconds since the epoch), for the database pace store."""

    name = models.CharField(max_length=64, primary_key=True)
    next_at = models.FloatField(default=0.0)

    class Meta:
        verbose_name = _("pace")
        verbose_name_plural = _("paces")

    def __str__(self) -> str:
        return self.name


class BlockEntry(models.Model):
    """A phone number, IP address or network that may not be called or call in."""

    class Kind(models.TextChoices):
        PHONE = "phone", _("Phone number")
        NETWORK = "network", _("IP address or network")

    class Reason(models.TextChoices):
        OPT_OUT = "opt-out", _("Do not call: the person opted out")
        ABUSE = "abuse", _("Abuse")
        OTHER = "other", _("Other")

    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices, default=Kind.PHONE)
    value = models.CharField(
        _("number or network"),
        max_length=64,
        help_text=_(
            "A phone number (any format, stored in E.164), or an IP address or CIDR range such as 203.0.113.0/24."
        ),
    )
    reason = models.CharField(_("reason"), max_length=8, choices=Reason.choices, default=Reason.OTHER)
    note = models.TextField(_("note"), blank=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True, help_text=_("Empty: never."))
    hit_count = models.PositiveIntegerField(_("hits"), default=0, editable=False)
    last_hit_at = models.DateTimeField(_("last hit"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("blocklist entry")
        verbose_name_plural = _("blocklist entries")
        constraints = [models.UniqueConstraint(fields=["kind", "value"], name="ctc_block_unique")]
        indexes = [models.Index(fields=["kind", "value", "expires_at"], name="ctc_block_lookup")]

    def __str__(self) -> str:
        return f"{self.value} ({self.get_reason_display()})"


class StaffPhone(NormalizedPhoneNumber, models.Model):
    """The number a staff member's test calls ring, remembered for their next one."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="clicktocall_phone", verbose_name=_("user")
    )
    phone_number = models.CharField(_("phone number"), max_length=16, validators=[validate_e164])
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("staff phone number")
        verbose_name_plural = _("staff phone numbers")

    def __str__(self) -> str:
        return phone.display(self.phone_number)


class LimitCounter(models.Model):
    """A cooldown or a rate counter, when the limits are kept in the database.

    ``key`` is a hash (see ``limits.key``): no number or address is stored in clear.
    ``expires`` is in seconds since the epoch; an expired row counts as absent.
    """

    key = models.CharField(max_length=100, primary_key=True)
    count = models.BigIntegerField(default=0)
    expires = models.FloatField(db_index=True)

    class Meta:
        verbose_name = _("limit counter")
        verbose_name_plural = _("limit counters")

    def __str__(self) -> str:
        return self.key


# The tables of the US Congress target source, the events out (webhooks) and the API's
# tokens belong to this app too.
from .api.models import ApiToken  # noqa: E402, F401
from .events.models import WebhookDelivery, WebhookEndpoint  # noqa: E402, F401
from .targets.us_congress.models import CongressDataset, CongressMember, CongressOffice, ZipDistrict  # noqa: E402, F401
