"""Parsing and normalizing phone numbers with the ``phonenumbers`` library."""

from __future__ import annotations

from functools import lru_cache

import phonenumbers

from .conf import conf

TEXT_MAX = 64  # characters: longer text is no phone number

# How many distinct texts ``normalize`` and ``region_of`` each remember in one process:
# the few campaign lines a site names on every request, and room for stray ones.
NORMALIZED_MAX = 512


class InvalidNumber(ValueError):
    """The text is not a valid, dialable phone number."""


def parse(text: str, region: str | None = None) -> phonenumbers.PhoneNumber:
    """Parse ``text`` in ``region`` (the configured default when None) or raise."""
    if not isinstance(text, str) or not text.strip() or len(text) > TEXT_MAX:
        raise InvalidNumber("empty or too long")
    try:
        number = phonenumbers.parse(text.strip(), region or conf.DEFAULT_REGION)
    except phonenumbers.NumberParseException as exc:
        raise InvalidNumber(str(exc)) from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidNumber("not a valid number")
    return number


def to_e164(number: phonenumbers.PhoneNumber) -> str:
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize(text: str, region: str | None = None) -> str:
    """Return ``text`` as an E.164 string, or raise ``InvalidNumber``."""
    if not isinstance(text, str) or len(text) > TEXT_MAX:
        return to_e164(parse(text, region))
    e164, problem = _normalized(text, region or conf.DEFAULT_REGION)
    if problem is not None:
        raise InvalidNumber(problem)
    return e164


@lru_cache(maxsize=NORMALIZED_MAX)
def _normalized(text: str, region: str) -> tuple[str, str | None]:
    """``normalize``'s answer for ``text`` in ``region``: the E.164 string, or why there is none."""
    try:
        return to_e164(parse(text, region)), None
    except InvalidNumber as exc:
        return "", str(exc)


def region_of(e164: str) -> str | None:
    """The ISO country code of an E.164 number, or None."""
    if isinstance(e164, str) and len(e164) <= TEXT_MAX:
        return _region_of(e164)
    return _parsed_region(e164)


@lru_cache(maxsize=NORMALIZED_MAX)
def _region_of(e164: str) -> str | None:
    """``region_of`` for short text: the country codes of the lines, kept per process."""
    return _parsed_region(e164)


def _parsed_region(e164: str) -> str | None:
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(e164, None))
    except phonenumbers.NumberParseException:
        return None


def display(e164: str) -> str:
    """A human-friendly international rendering of an E.164 number."""
    try:
        return phonenumbers.format_number(phonenumbers.parse(e164, None), phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    except phonenumbers.NumberParseException:
        return e164


def country_codes(text: str) -> list[str]:
    """Two-letter country codes written as ``"us, CA; gb"``: upper-cased, in order, once each."""
    codes = (code.strip().upper() for code in (text or "").replace(";", ",").split(","))
    return list(dict.fromkeys(code for code in codes if code))
