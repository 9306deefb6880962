"""Merge the query string and the body of an ``/outgoing`` request, then validate.

The query string and the body are merged with the body winning on a clash. Bodies may
be JSON (an object), urlencoded, multipart or ``text/plain`` (``key=value`` lines).
Validation never raises: problems are collected per parameter.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from json.encoder import encode_basestring_ascii
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings as django_settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent, ValidationError
from django.core.validators import validate_email
from rest_framework.exceptions import APIException
from rest_framework.parsers import BaseParser

from .. import phone as phones

CALLBACK_RE = re.compile(r"^[A-Za-z_$][0-9A-Za-z_$]*(\.[A-Za-z_$][0-9A-Za-z_$]*)*$")
CALLBACK_MAX = 128
DATA_MAX_BYTES = 4096
NAME_MAX = 255
EMAIL_MAX = 254
URL_MAX = 2048
EXTRA_MAX_KEYS = 50
EXTRA_KEY_MAX = 64
EXTRA_VALUE_MAX = 1024
# What one attempt stores of the parameters: the variables (extra parameters and data),
# and the raw values of the others, each bounded in JSON-encoded bytes.
VARIABLES_MAX_BYTES = 8192
SUBMITTED_MAX_BYTES = 4096
SUBMITTED_VALUE_MAX = 256
# Characters no database stores in text or JSON: NUL (PostgreSQL) and lone UTF-16
# surrogates (not UTF-8 at all; JSON's "\ud800" escape produces them).
UNSTORABLE_RE = re.compile("[\x00\ud800-\udfff]")
UNSTORABLE = "contains a character that cannot be stored (NUL or a lone surrogate)"
# Characters a problem's text does not keep: NUL, other control characters, lone surrogates.
UNPRINTABLE_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")

# Parameters with a meaning of their own; everything else becomes a variable.
# ``$.get(url + "?callback=?", data, cb)`` without a "jsonp" data type makes jQuery send an
# ordinary cross-origin request with the placeholder left as it is: that page reads JSON.
JQUERY_PLACEHOLDER = "?"
KNOWN = {"phone", "CallerID", "campaign_line", "name", "email", "data", "revmsghtml", "callback"}
TEXT_PARAMS = frozenset(KNOWN - {"data"})  # the known parameters given as text
# Parameters that clients add for their own purposes and that are not the visitor's.
IGNORED = {"_", "csrfmiddlewaretoken"}


class PlainTextFormParser(BaseParser):
    """An HTML form posted with ``enctype="text/plain"``: ``key=value`` lines.

    A line without ``=`` continues the previous value (a textarea with a newline).
    """

    media_type = "text/plain"

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        request = parser_context.get("request")
        encoding = parser_context.get("encoding") or getattr(request, "encoding", None) or "utf-8"
        text = stream.read().decode(encoding, errors="replace") if stream is not None else ""
        values: dict[str, str] = {}
        last: str | None = None
        for line in re.split(r"\r\n|\n|\r", text):
            if "=" in line:
                key, _, value = line.partition("=")
                values[key] = value
                last = key
            elif last is not None and line:
                values[last] += "\n" + line
        return values


class HTMLFormParser(PlainTextFormParser):
    """A body sent as ``text/html``, which the original service counted as a browser form:
    read like ``text/plain``, ``key=value`` lines."""

    media_type = "text/html"


@dataclass
class OutgoingParams:
    """The validated parameters of one request, and what was wrong with them."""

    submitted: dict[str, Any] = field(default_factory=dict)
    phone: str = ""
    phone_number: Any = None  # phonenumbers.PhoneNumber when valid
    campaign_line: str = ""
    name: str = ""
    email: str = ""
    revmsghtml: str = ""
    callback: str = ""
    variables: dict[str, Any] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        return not self.problems

    @property
    def has_callback(self) -> bool:
        """Whether a callback was given: an empty one, or jQuery's bare ``?``, counts as absent."""
        return _text(self.submitted.get("callback")) not in ("", None, JQUERY_PLACEHOLDER)

    @property
    def callback_valid(self) -> bool:
        return bool(self.callback) and "callback" not in self.problems


def _scalar(value: Any) -> Any:
    """Turn a JSON scalar into the string a form would have sent."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return value


def merge(query: Any, body: Any) -> dict[str, Any]:
    """Merge the query string and the parsed body; the body wins on a clash."""
    merged: dict[str, Any] = {}
    for source in (query, body):
        if source is None:
            continue
        if hasattr(source, "lists"):  # QueryDict: the last value of a repeated key
            for key, values in source.lists():
                if values:
                    merged[key] = values[-1]
        elif isinstance(source, dict):
            for key, value in source.items():
                merged[str(key)] = value
    return merged


def content_length(request) -> int:
    """The request's ``Content-Length``, 0 when absent or not a number."""
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def read(request) -> tuple[dict[str, Any], str | None]:
    """The merged parameters of a DRF request, and a body problem (or None)."""
    body: Any = None
    problem = None
    limit = django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    length = content_length(request)
    try:
        # REST framework's parsers read the stream themselves, past Django's own limit: check it first.
        if limit is not None and length > limit:
            raise RequestDataTooBig(f"a body of {length} bytes is larger than {limit} (DATA_UPLOAD_MAX_MEMORY_SIZE)")
        body = request.data
    except APIException as exc:
        problem = f"body: {exc.detail}"
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        problem = f"body: {exc.__class__.__name__}"
    except (RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent) as exc:
        problem = f"body: {exc}"
    if body is not None and not hasattr(body, "lists") and not isinstance(body, dict):
        problem = "body: a JSON body must be an object"
        body = None
    try:
        query = request.query_params
    except TooManyFieldsSent as exc:  # Django's DATA_UPLOAD_MAX_NUMBER_FIELDS applies to the query too
        query = None
        problem = "; ".join(filter(None, [problem, f"query: {exc}"]))
    return merge(query, body), problem


def _text(value: Any) -> str | None:
    """A stripped string, '' for absent/empty, None when not a scalar."""
    value = _scalar(value)
    if value is None:
        return ""
    if hasattr(value, "read"):  # an uploaded file where text was expected
        return None
    if not isinstance(value, str):
        return None
    return value.strip()


def is_callback(name: str) -> bool:
    """Whether ``name`` is a JSONP function name that may be echoed: dotted identifiers, bounded."""
    return len(name) <= CALLBACK_MAX and CALLBACK_RE.match(name) is not None


def storable_text(text: str) -> bool:
    """Whether ``text`` can be stored as is: no NUL character, no lone surrogate."""
    return UNSTORABLE_RE.search(text) is None


def storable(value: Any) -> bool:
    """Whether a JSON value can be stored as is: no NUL, no lone surrogate, no NaN or infinity.

    PostgreSQL refuses all three in ``text`` and ``jsonb``. The walk is iterative, so
    deeply nested values cannot exhaust the stack.
    """
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if not storable_text(item):
                return False
        elif isinstance(item, float):
            if not math.isfinite(item):
                return False
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return True


def validate(submitted: dict[str, Any], body_problem: str | None = None) -> OutgoingParams:
    """Validate merged parameters; every problem is recorded, none raised."""
    p = OutgoingParams()
    problems = p.problems
    if body_problem:
        problems["body"] = body_problem

    texts: dict[str, str] = {}
    for key in TEXT_PARAMS:
        if key in submitted:
            text = _text(submitted[key])
            if text is None:
                problems[key] = "must be text"
            elif not storable_text(text):
                problems[key] = UNSTORABLE
            else:
                texts[key] = text

    raw_phone = texts.get("phone") or texts.get("CallerID") or ""
    if not raw_phone:
        problems.setdefault("phone", "missing")
    else:
        try:
            p.phone_number = phones.parse(raw_phone)
            p.phone = phones.to_e164(p.phone_number)
        except phones.InvalidNumber as exc:
            problems["phone"] = f"not a valid number ({exc})"

    raw_line = texts.get("campaign_line", "")
    if not raw_line:
        problems.setdefault("campaign_line", "missing")
    else:
        try:
            p.campaign_line = phones.normalize(raw_line)
        except phones.InvalidNumber as exc:
            problems["campaign_line"] = f"not a valid number ({exc})"

    p.name = texts.get("name", "")
    if len(p.name) > NAME_MAX:
        problems["name"] = f"longer than {NAME_MAX} characters"
        p.name = p.name[:NAME_MAX]

    email = texts.get("email", "")
    if email:
        try:
            if len(email) > EMAIL_MAX:
                raise ValidationError("too long")
            validate_email(email)
            p.email = email
        except ValidationError:
            problems["email"] = "not a valid address"

    revmsghtml = texts.get("revmsghtml", "")
    if revmsghtml:
        try:
            parts = urlsplit(revmsghtml) if len(revmsghtml) <= URL_MAX else None
        except ValueError:  # e.g. an unbalanced IPv6 bracket
            parts = None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            problems["revmsghtml"] = "must be an absolute http(s) URL"
        else:
            p.revmsghtml = revmsghtml

    callback = texts.get("callback", "")
    if callback and callback != JQUERY_PLACEHOLDER:
        if not is_callback(callback):
            problems["callback"] = "not a valid JSONP function name"
        else:
            p.callback = callback

    variables: dict[str, Any] = {}
    extras = [k for k in submitted if k not in KNOWN and k not in IGNORED]
    if len(extras) > EXTRA_MAX_KEYS:
        problems["variables"] = f"more than {EXTRA_MAX_KEYS} extra parameters"
    for key in extras[:EXTRA_MAX_KEYS]:
        text = _text(submitted[key])
        if text is None:
            problems[key[:EXTRA_KEY_MAX]] = "must be text"
        elif not (storable_text(key) and storable_text(text)):
            problems[key[:EXTRA_KEY_MAX]] = UNSTORABLE
        elif len(key) > EXTRA_KEY_MAX or len(text) > EXTRA_VALUE_MAX:
            problems[key[:EXTRA_KEY_MAX]] = "too long"
        elif text:
            variables[key] = text
    stored = set(variables)  # parameters kept elsewhere on the attempt are not kept a second time

    data = submitted.get("data")
    if isinstance(data, str):
        data = data.strip()
        if data:
            if len(data.encode("utf-8")) > DATA_MAX_BYTES:
                problems["data"] = f"larger than {DATA_MAX_BYTES} bytes"
            else:
                try:
                    data = json.loads(data)
                except (ValueError, RecursionError):
                    problems["data"] = "not valid JSON"
        else:
            data = None
    if data is not None and "data" not in problems:
        if not isinstance(data, dict):
            problems["data"] = "must be a JSON object"
        elif not storable(data):
            problems["data"] = f"{UNSTORABLE}, NaN or infinity"
        elif len(json.dumps(data).encode("utf-8")) > DATA_MAX_BYTES:
            problems["data"] = f"larger than {DATA_MAX_BYTES} bytes"
        else:
            variables.update({str(k): v for k, v in data.items()})
            stored.add("data")
    if len(json.dumps(variables)) > VARIABLES_MAX_BYTES:
        problems["variables"] = f"larger than {VARIABLES_MAX_BYTES} bytes in all"
        variables, stored = {}, set()
    p.variables = variables
    # The name and email, when valid, have columns of their own.
    stored |= {key for key in ("name", "email") if getattr(p, key) and key not in problems}
    p.submitted = _keepable(submitted, stored)
    p.problems = {_printable(k): _printable(v) for k, v in problems.items()}
    return p


def _printable(text: str) -> str:
    """Text safe to store and log: NUL, other control characters and lone surrogates replaced."""
    return UNPRINTABLE_RE.sub("\ufffd", str(text))


def _storable_copy(text: str) -> str:
    """``text`` with the characters no database stores replaced by U+FFFD."""
    return UNSTORABLE_RE.sub("\ufffd", text)


def _json_length(value: str | int | float | bool | None) -> int:
    """The length of ``json.dumps(value)`` for a JSON scalar."""
    return len(encode_basestring_ascii(value)) if isinstance(value, str) else len(json.dumps(value))


def _keepable(submitted: dict[str, Any], stored: set[str]) -> dict[str, Any]:
    """The raw parameters not ``stored`` as variables, in a form that can be stored.

    JSON-safe, each value at most ``SUBMITTED_VALUE_MAX`` characters, the parameters with a
    meaning of their own first, and at most ``SUBMITTED_MAX_BYTES`` in all.
    """
    kept: dict[str, Any] = {}
    size = 2
    keys = sorted((key for key in submitted if key not in stored), key=lambda key: key not in KNOWN)
    for key, value in ((key, submitted[key]) for key in keys):
        if hasattr(value, "read"):
            value = f"<file {getattr(value, 'name', '')!s:.100}>"
        elif isinstance(value, float) and not math.isfinite(value):
            value = str(value)
        elif not isinstance(value, (str, int, float, bool, type(None))):
            value = json.dumps(value, default=str)  # escapes NUL, NaN and infinity as text
        if isinstance(value, str):
            if len(value) > SUBMITTED_VALUE_MAX:
                value = value[:SUBMITTED_VALUE_MAX] + "…"
            value = _storable_copy(value)
        key = _storable_copy(str(key)[:EXTRA_KEY_MAX])
        size += _json_length(key) + _json_length(value) + 4  # the entry as ``{key: value}``
        if size > SUBMITTED_MAX_BYTES:
            break
        kept[key] = value
    return kept
