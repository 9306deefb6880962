"""Logs an operator can read: one line per attempt, numbers masked, no secrets.

``log_request`` writes one line per ``/outgoing`` request (logger
``clicktocall.attempts``) with the attempt, its outcome and the answer; the placement
worker writes one line per placement it finishes. ``MaskingFilter`` is installed on the
log handlers (see ``LOGGING`` in the project settings): it masks every phone number
in every record, e.g. ``+16175232338`` becomes ``+1617***2338``, unless
``CLICKTOCALL_LOG_FULL_NUMBERS`` is set, and blanks the values of secret settings.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

from .conf import conf

if TYPE_CHECKING:
    from .calls import Result
    from .outgoing.params import OutgoingParams

logger = logging.getLogger("clicktocall.attempts")

# A phone number as it may appear in a message: E.164, or a long run of digits, with
# no letter or digit right before or after it (so provider ids like CA0123… stay whole).
NUMBER_RE = re.compile(r"(?<![\w+])\+?\d{8,15}(?!\w)")
# A field value written in quotes: one with white space (``str.isspace``) or a quote.
QUOTED_RE = re.compile(r'[\s"]')
SECRET_SETTINGS = ("TWILIO_AUTH_TOKEN", "SECRET_KEY")
DETAIL_MAX = 300


def mask_number(number: str) -> str:
    """``+16175232338`` -> ``+1617***2338``: the country and area, and the last four digits."""
    if not number:
        return ""
    plus = "+" if number.startswith("+") else ""
    digits = number[len(plus) :]
    if len(digits) <= 6:
        return plus + "*" * len(digits)
    head = 4 if len(digits) >= 10 else 2
    return f"{plus}{digits[:head]}***{digits[-4:]}"


def show_number(number: str) -> str:
    """A number for a log line: masked unless ``CLICKTOCALL_LOG_FULL_NUMBERS`` is on."""
    return number if _full_numbers() else mask_number(number)


def scrub(text: str) -> str:
    """``text`` with its phone numbers masked (unless configured) and secret values removed."""
    if not text:
        return text
    if not _full_numbers():
        text = NUMBER_RE.sub(lambda m: mask_number(m.group(0)), text)
    for secret in _secrets():
        text = text.replace(secret, "[secret]")
    return text


def _full_numbers() -> bool:
    try:
        return conf.LOG_FULL_NUMBERS
    except Exception:  # settings not configured yet: mask
        return False


def _secrets() -> list[str]:
    from django.conf import settings

    values = []
    try:
        for name in SECRET_SETTINGS:
            value = getattr(settings, name, "") or ""
            if isinstance(value, str) and len(value) >= 8:
                values.append(value)
    except Exception:  # settings not configured yet
        pass
    return values


class MaskingFilter(logging.Filter):
    """Masks numbers and removes secrets from a record's message and traceback."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave it to the handler to report
            return True
        record.msg = scrub(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        return True


def _detail(text: str) -> str:
    text = " ".join((text or "").split())
    return text[:DETAIL_MAX] + ("…" if len(text) > DETAIL_MAX else "")


def attempt_fields(attempt: Any) -> dict[str, Any]:
    """The fields of an attempt that a log line shows."""
    return {
        "attempt": attempt.pk,
        "line": attempt.line.phone_number if attempt.line_id else "-",
        "phone": show_number(attempt.phone) or "-",
        "outcome": attempt.outcome,
    }


def format_fields(fields: dict[str, Any]) -> str:
    parts = []
    for key, value in fields.items():
        value = "-" if value in (None, "") else str(value)
        if QUOTED_RE.search(value):
            value = '"' + value.replace('"', "'") + '"'
        parts.append(f"{key}={value}")
    return " ".join(parts)


def log_request(params: OutgoingParams, result: Result) -> None:
    """One line for one ``/outgoing`` request: its attempt, outcome and answer."""
    try:
        attempt = result.attempt
        if attempt is not None:
            fields = attempt_fields(attempt)
            fields["answer"] = result.outcome.status
            fields["detail"] = _detail(attempt.error_detail)
        else:
            fields = {
                "attempt": None,
                "line": params.campaign_line or "-",
                "phone": show_number(params.phone) or "-",
                "outcome": result.outcome.name.lower(),
                "answer": result.outcome.status,
            }
        logger.info("request %s", format_fields(fields))
    except Exception:  # a log line must never break the request
        logger.exception("could not write the request's log line")


def log_placement(attempt: Any, *, tries: int, detail: str = "") -> None:
    """One line for one placement finished by the worker."""
    fields = attempt_fields(attempt)
    fields["provider_call"] = attempt.provider_call_id
    fields["tries"] = tries
    fields["detail"] = _detail(detail or attempt.error_detail)
    logger.info("placement %s", format_fields(fields))
