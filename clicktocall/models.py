"""Campaign lines and the call attempts made through them."""

from __future__ import annotations

import secrets

from django.core.exceptions import ValidationError
from django.db import models
from django.http.request import validate_host
from django.utils.translation import gettext_lazy as _

from . import phone


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


class CampaignLine(models.Model):
    """A campaign's phone number: the caller id of the calls it places."""

    phone_number = models.CharField(
        _("phone number"),
        max_length=16,
        unique=True,
        validators=[validate_e164],
        help_text=_("The campaign's number in E.164 form, e.g. +18559299898. Any format is accepted and normalized."),
    )
    name = models.CharField(_("name"), max_length=255, blank=True)
    is_active = models.BooleanField(
        _("active"), default=True, help_text=_("A switched-off line refuses every request.")
    )
    redirect_hosts = models.TextField(
        _("redirect hosts"),
        blank=True,
        help_text=_(
            "Hosts that revmsghtml may redirect to, one per line (e.g. www.example.org; "
            ".example.org also allows its subdomains). The submitting page's own host is always allowed."
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

    def clean(self) -> None:
        if self.phone_number:
            try:
                self.phone_number = phone.normalize(self.phone_number)
            except phone.InvalidNumber:
                raise ValidationError({"phone_number": _("Enter a valid phone number.")}) from None

    @property
    def redirect_host_list(self) -> list[str]:
        return [h.strip().lower() for h in self.redirect_hosts.split() if h.strip() and h.strip() != "*"]

    def allows_redirect_to(self, host: str) -> bool:
        return bool(host) and validate_host(host.lower(), self.redirect_host_list)


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
        ERROR = "error", _("Failed: provider or system error")

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

    line = models.ForeignKey(
        CampaignLine, on_delete=models.PROTECT, related_name="attempts", verbose_name=_("line")
    )
    token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    phone = models.CharField(_("phone"), max_length=16, blank=True, help_text=_("E.164; empty when invalid."))
    name = models.CharField(_("name"), max_length=255, blank=True)
    email = models.CharField(_("email"), max_length=254, blank=True)
    variables = models.JSONField(_("variables"), default=dict, blank=True)
    submitted = models.JSONField(
        _("submitted parameters"),
        default=dict,
        blank=True,
        help_text=_("The raw parameters as received, kept when a request is refused."),
    )
    client_ip = models.GenericIPAddressField(_("client IP"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=512, blank=True)
    referrer = models.CharField(_("referring page"), max_length=2048, blank=True)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices, default=Outcome.PENDING)
    status = models.CharField(_("call status"), max_length=16, choices=Status.choices, default="", blank=True)
    provider_call_id = models.CharField(_("provider call id"), max_length=64, blank=True, db_index=True)
    error_detail = models.TextField(_("error detail"), blank=True)
    created_at = models.DateTimeField(_("requested"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    duration = models.PositiveIntegerField(_("duration (s)"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("call attempt")
        verbose_name_plural = _("call attempts")
        indexes = [
            models.Index(fields=["line", "phone", "-created_at"], name="ctc_attempt_cooldown"),
            models.Index(fields=["line", "-created_at"], name="ctc_attempt_line_date"),
            models.Index(fields=["outcome", "-created_at"], name="ctc_attempt_outcome_date"),
            models.Index(fields=["status", "-created_at"], name="ctc_attempt_status_date"),
            models.Index(fields=["-created_at"], name="ctc_attempt_date"),
            models.Index(fields=["phone"], name="ctc_attempt_phone"),
        ]

    def __str__(self) -> str:
        return f"{self.phone or '?'} → {self.line_id} ({self.get_outcome_display()})"
