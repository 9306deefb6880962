"""Webhook endpoints (registered by staff) and deliveries (one per event and endpoint)."""

from __future__ import annotations

import base64
import secrets
import uuid

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from ..models import CallAttempt, CampaignLine


class Event(models.TextChoices):
    ATTEMPT_CREATED = "attempt.created", _("attempt.created: a request was recorded (any outcome)")
    CALL_PLACED = "call.placed", _("call.placed: the provider accepted the call")
    CALL_STATUS_CHANGED = "call.status_changed", _("call.status_changed: the call's status moved on")
    CALL_COMPLETED = "call.completed", _("call.completed: the call ended, with its duration and target legs")
    CALLER_OPTED_OUT = "caller.opted_out", _("caller.opted_out: the person asked not to be called again")


def new_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def new_message_id() -> str:
    """The ``webhook-id`` of one event for one endpoint, the same on every retry."""
    return f"msg_{uuid.uuid4().hex}"


def validate_events(value: object) -> None:
    known = set(Event.values)
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v in known for v in value):
        raise ValidationError(_("Choose one or more of: %(events)s."), params={"events": ", ".join(Event.values)})


class WebhookEndpoint(models.Model):
    """A URL of the campaign's systems that receives signed events."""

    url = models.URLField(
        _("URL"), max_length=2048, help_text=_("Where events are POSTed. https only when the site runs in production.")
    )
    description = models.CharField(_("description"), max_length=255, blank=True)
    events = models.JSONField(_("events"), default=list, validators=[validate_events])
    lines = models.ManyToManyField(
        CampaignLine,
        blank=True,
        related_name="+",
        verbose_name=_("lines"),
        help_text=_("Only events of these lines. None chosen: every line."),
    )
    is_active = models.BooleanField(_("active"), default=True, help_text=_("An inactive endpoint receives nothing."))
    secret = models.CharField(_("signing secret"), max_length=128, default=new_secret, editable=False)
    include_personal_data = models.BooleanField(
        _("send personal data"),
        default=True,
        help_text=_(
            "Send the person's name, email, number and variables. Off: they are left out, and the number is "
            "sent as phone_hash, an HMAC-SHA256 of the E.164 number keyed with the signing secret."
        ),
    )
    timeout = models.PositiveSmallIntegerField(
        _("timeout (seconds)"),
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
        help_text=_("How long one try may take, from connecting to the answer."),
    )
    max_concurrent = models.PositiveSmallIntegerField(
        _("concurrent deliveries"),
        default=4,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_("At most this many requests to the endpoint at once; the others wait their turn."),
    )
    failing_since = models.DateTimeField(_("failing since"), null=True, blank=True, editable=False)
    paused_at = models.DateTimeField(
        _("paused"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("Set when the endpoint failed for the whole retry period; resume it once it answers again."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["url", "pk"]
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self) -> str:
        return self.description or self.url

    def clean(self) -> None:
        from .transport import url_problem

        super().clean()
        problem = url_problem(self.url)
        if problem:
            raise ValidationError({"url": problem})

    @property
    def receiving(self) -> bool:
        return self.is_active and self.paused_at is None

    @property
    def secret_hint(self) -> str:
        """The secret's last characters, enough to tell two secrets apart."""
        return f"whsec_…{self.secret[-4:]}"


class WebhookDelivery(models.Model):
    """One event for one endpoint, with how its delivery went."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SUCCEEDED = "succeeded", _("Delivered")
        FAILED = "failed", _("Failed")

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("endpoint")
    )
    message_id = models.CharField(_("webhook-id"), max_length=40, unique=True, default=new_message_id, editable=False)
    event = models.CharField(_("event"), max_length=32, choices=Event.choices)
    attempt = models.ForeignKey(
        CallAttempt, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("attempt")
    )
    body = models.TextField(_("body"), help_text=_("The JSON sent, byte for byte the same on every try."))
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.PENDING)
    tries = models.PositiveIntegerField(_("tries"), default=0)
    response_status = models.PositiveSmallIntegerField(_("response status"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_tried_at = models.DateTimeField(_("last tried"), null=True, blank=True)
    next_try_at = models.DateTimeField(_("next try"), null=True, blank=True)
    retry_until = models.DateTimeField(_("retried until"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        indexes = [
            models.Index(fields=["endpoint", "state"], name="ctc_delivery_endpoint_state"),
            models.Index(fields=["state", "-created_at"], name="ctc_delivery_state_date"),
            models.Index(fields=["created_at"], name="ctc_delivery_date"),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint} ({self.get_state_display()})"
