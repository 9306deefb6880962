"""The call flow: the TwiML a placed call follows, built with twilio's ``VoiceResponse``.

A call goes through these steps, each one a webhook Twilio requests (see ``webhooks``):

1. **answer** (voice URL): the human check, then the script. With answering-machine
   detection a machine either gets the script as a message or is hung up on. With
   "press 1" (the default) the script plays inside a ``<Gather>`` that ends with the
   prompt "press 1 to be connected, 9 to opt out"; without a key the call is redirected
   to step 2 with no digits. A line without targets only plays the script and the
   closing message.
2. **keypress** (gather action): ``1`` connects to the first target, ``9`` opts out,
   anything else (or nothing) repeats the prompt once, then the call says goodbye.
3. **connect** (dial action of the previous target): each target is announced by name
   and dialed with ``hangupOnStar`` (``*`` moves on to the next target) and its extension
   sent as ``sendDigits``; a target with several offices (a member of Congress, when the
   line says so) has its next office dialed when one is busy or does not answer; after
   the last target the closing message.

On a line that keeps office hours (``clicktocall.hours``), a target whose office is
closed at the time of the call is skipped with a short message ("… office is closed
now") and the next one dialed. A line that offers reminders asks after the last target
whether to call again at the same time on the next weekday (``remind`` webhook, key 2).

The targets come from the line's source (``clicktocall.targets``). On a line that finds
them by location, a call whose ZIP code is missing or matches nothing asks the caller to
key one in (``zip`` webhook, asked twice at most) before connecting; still nothing, the
line's fallback targets or an apology.

Scripts are staff-written text with ``{{ variable }}`` placeholders, rendered by plain
substitution (never Django's template language). A placeholder may carry a default,
``{{ park_name | "the park" }}``, spoken when the page sent no value (or an empty one);
without a default a missing variable renders empty. Values are plain text, which
``VoiceResponse`` escapes, so they cannot inject TwiML.

The same code builds the admin preview and the console backend's transcript, so what
they show is what the call does.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.urls import reverse
from django.utils import timezone

from . import targets as target_sources
from .conf import conf
from .hours import offices as hours
from .targets import ResolvedTarget

if TYPE_CHECKING:
    from twilio.twiml.voice_response import VoiceResponse

    from .models import CallAttempt, CallLeg, CampaignLine

CONNECT_KEY = "1"
OPT_OUT_KEY = "9"
GATHER_TIMEOUT = 8  # seconds to wait for a key after the prompt
MAX_VALUE_LENGTH = 200  # characters of one variable's value that are spoken
MAX_SAY_LENGTH = 4000  # Twilio speaks at most 4096 characters per <Say>

# AnsweredBy values that mean no person picked up.
MACHINE_ANSWERS = frozenset({"machine_start", "machine_end_beep", "machine_end_silence", "machine_end_other", "fax"})

PROMPT_CONNECT = "Press 1 to be connected. To stop receiving these calls, press 9."
PROMPT_AGAIN = "Sorry, I didn't get that."
NO_ANSWER_GOODBYE = "We didn't get your answer. Goodbye."
OPTED_OUT = "You will not receive these calls again. Goodbye."
ANNOUNCE = "Connecting you to {name}."
ANNOUNCE_SKIP_HINT = " Press star at any time to move on to the next one."
ANNOUNCE_OFFICE = "Trying another office of {name}."
ASK_ZIP = "Please enter your five-digit ZIP code."
ZIP_NOT_FOUND = "Sorry, we could not find that ZIP code."
NO_TARGET_FOUND = "Sorry, we could not find whom to connect you to. Goodbye."
CLOSED_NOW = "{name}'s office is closed now."
REMIND_KEY = "2"
REMIND_PROMPT = "To be called again at this time on the next weekday, press 2."
REMIND_SET = "We will call you again at this time on the next weekday. To stop these calls, press 9 on any of them."
ZIP_DIGITS = 5
ZIP_TRIES = 2
# A target's next office is dialed after these outcomes (not after a conversation or *).
TRY_NEXT_OFFICE = frozenset({"busy", "no-answer", "failed"})
LEG_OUTCOMES = {
    "busy": "{name} is busy.",
    "no-answer": "{name} did not answer.",
    "failed": "We could not reach {name}.",
    "canceled": "We could not reach {name}.",
}

_PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_TEMPLATE_TAG = re.compile(r"\{%.*?%\}|\{#.*?#\}", re.DOTALL)
# A name, optionally with a default in double quotes: {{ park_name | "the park" }}.
_NAME = re.compile(r'^\s*([A-Za-z_][A-Za-z0-9_-]*)\s*(?:\|\s*"([^"]*)"\s*)?$')


def plain_text(text: str) -> str:
    """Text without control or unassigned characters (which XML cannot carry), spaces collapsed."""
    text = "".join(" " if unicodedata.category(ch).startswith("C") else ch for ch in text)
    return " ".join(text.split())


def spoken_value(value: Any) -> str:
    """A variable's value as plain text to speak: scalars only, no control characters, bounded."""
    if value is None or isinstance(value, (dict, list, tuple, set)):
        return ""
    return plain_text(str(value))[:MAX_VALUE_LENGTH]


def render(template: str, variables: Mapping[str, Any]) -> str:
    """Replace each ``{{ key }}`` with the value of ``key``, each ``{{ key | "default" }}``
    with the value or else the default (empty when missing and without a default).

    Only plain placeholders are understood: filters, template tags (``{% … %}``) and
    comments are never evaluated; a placeholder that is not a plain name renders empty
    and tags are dropped, so nothing of the template language reaches the caller.
    """
    if not template:
        return ""

    def substitute(match: re.Match[str]) -> str:
        name = _NAME.match(match.group(1))
        if not name:
            return ""
        return spoken_value(variables.get(name.group(1))) or spoken_value(name.group(2))

    text = _PLACEHOLDER.sub(substitute, _TEMPLATE_TAG.sub("", template))
    return plain_text(text)[:MAX_SAY_LENGTH]


def defaults(template: str) -> dict[str, str | None]:
    """The variables a template uses, in order of first use, with the default each first
    has (None without one)."""
    found: dict[str, str | None] = {}
    for match in _PLACEHOLDER.finditer(_TEMPLATE_TAG.sub("", template or "")):
        name = _NAME.match(match.group(1))
        if name:
            default = spoken_value(name.group(2)) or None
            if name.group(1) not in found or found[name.group(1)] is None:
                found[name.group(1)] = default
    return found


def placeholders(template: str) -> list[str]:
    """The variable names a template uses, in order of first use."""
    return list(defaults(template))


def silent_variables(templates: Iterable[str], variables: Mapping[str, Any]) -> list[str]:
    """The variables of ``templates`` that would be spoken as nothing: no value and no default
    in at least one of their placeholders."""
    silent: list[str] = []
    for template in templates:
        for match in _PLACEHOLDER.finditer(_TEMPLATE_TAG.sub("", template or "")):
            name = _NAME.match(match.group(1))
            if name and name.group(1) not in silent:
                if not spoken_value(variables.get(name.group(1))) and not spoken_value(name.group(2)):
                    silent.append(name.group(1))
    return silent


def attempt_variables(attempt: CallAttempt) -> dict[str, Any]:
    """The variables a call can speak: the page's ``data`` and extra parameters, and ``name``."""
    values: dict[str, Any] = dict(attempt.variables) if isinstance(attempt.variables, dict) else {}
    if attempt.name:
        values["name"] = attempt.name
    return values


@dataclass(frozen=True)
class FlowUrls:
    """Where Twilio sends the caller's key presses and each target call's outcome."""

    gather: str
    dial: Callable[[int], str]
    zip: Callable[[int], str] = lambda tries: ""
    remind: str = ""

    @classmethod
    def for_token(cls, token: str) -> FlowUrls:
        base = conf.PUBLIC_URL

        def dial(position: int) -> str:
            return base + reverse("clicktocall:twilio-dial", kwargs={"token": token, "position": position})

        def zip_entry(tries: int) -> str:
            return base + reverse("clicktocall:twilio-zip", kwargs={"token": token, "tries": tries})

        gather = base + reverse("clicktocall:twilio-gather", kwargs={"token": token})
        remind = base + reverse("clicktocall:twilio-remind", kwargs={"token": token})
        return cls(gather=gather, dial=dial, zip=zip_entry, remind=remind)


@dataclass
class CallFlow:
    """The TwiML of each step of one call on one line."""

    line: CampaignLine
    targets: Sequence[ResolvedTarget]
    variables: Mapping[str, Any]
    urls: FlowUrls
    ring_timeout: int = 30
    needs_zip: bool = False  # no target found by location yet: ask the caller for a ZIP code
    caller_number: str = ""  # shown to targets instead of the line's number (see caller_id_for)
    now: dt.datetime | None = None  # when the call happens, for office hours (the present by default)
    offer_reminder: bool = False  # after the last target, offer to call again on the next weekday

    @classmethod
    def for_line(
        cls,
        line: CampaignLine,
        variables: Mapping[str, Any],
        token: str,
        targets: Iterable[ResolvedTarget] | None = None,
        *,
        caller_number: str = "",
        now: dt.datetime | None = None,
        offer_reminder: bool | None = None,
    ) -> CallFlow:
        """The flow of a call on ``line`` whose webhook URLs carry ``token``.

        The targets are the line's source's for these variables unless given; a shuffle
        is seeded with ``token``, so each webhook of one call sees the same order.
        """
        needs_zip = False
        if targets is None:
            resolution = target_sources.resolve(line, variables, seed=token)
            targets, needs_zip = resolution.targets, resolution.needs_zip
        return cls(
            line=line,
            targets=list(targets),
            variables=variables,
            urls=FlowUrls.for_token(token),
            ring_timeout=conf.RING_TIMEOUT,
            needs_zip=needs_zip,
            caller_number=caller_number,
            now=now or timezone.now(),
            offer_reminder=line.reminder_count > 0 if offer_reminder is None else offer_reminder,
        )

    @classmethod
    def for_attempt(cls, attempt: CallAttempt, called: str = "") -> CallFlow:
        """The flow of the attempt's call; ``called`` is the ``To`` of the signed webhook request."""
        return cls.for_line(
            attempt.line,
            attempt_variables(attempt),
            attempt.token,
            caller_number=caller_id_for(attempt, called),
            offer_reminder=attempt.line.reminder_count > 0 and attempt.reminder == 0,  # reminders then follow alone
        )

    # Steps

    def answer(self, answered_by: str = "") -> VoiceResponse:
        """The TwiML for the answered call (``answered_by`` from machine detection)."""
        response = _response()
        line = self.line
        if line.human_check == line.HumanCheck.MACHINE_DETECTION and answered_by in MACHINE_ANSWERS:
            if line.machine_action == line.MachineAction.LEAVE_MESSAGE:
                self._script(response)
                self._closing(response)
            response.hangup()
            return response
        if not self.targets and not self.needs_zip:
            self._script(response)
            self._closing(response)
            response.hangup()
            return response
        if line.human_check == line.HumanCheck.NONE:
            self._script(response)
            if self.needs_zip:
                self._ask_zip_into(response, 0)
            else:
                self._connect_into(response, 0)
            return response
        gather = self._gather(response)
        self._script(gather)
        self._say(gather, PROMPT_CONNECT)
        response.redirect(self.urls.gather, method="POST")  # no key: ask once more
        return response

    def keypress(self, digits: str) -> VoiceResponse:
        """The TwiML after the caller pressed ``digits`` at the prompt."""
        if digits == CONNECT_KEY:
            if self.needs_zip:
                return self.ask_zip(0)
            return self.connect(0)  # with no target left (staff switched them off): the closing message
        if digits == OPT_OUT_KEY:
            return self.opted_out()
        response = _response()
        gather = self._gather(response)
        self._say(gather, PROMPT_AGAIN + " " + PROMPT_CONNECT)
        self._say(response, NO_ANSWER_GOODBYE)
        response.hangup()
        return response

    def opted_out(self) -> VoiceResponse:
        response = _response()
        self._say(response, OPTED_OUT)
        response.hangup()
        return response

    def connect(
        self,
        position: int,
        previous_outcome: str = "",
        *,
        previous_name: str | None = None,
        leg: int | None = None,
        office: int = 0,
    ) -> VoiceResponse:
        """Report how the previous target call went, then dial the target at ``position``.

        ``previous_name`` names the target just called and ``leg`` numbers the next
        connection of the call, when the list changed since the call began (by default
        the target before ``position``, and ``position``); ``office`` picks one of the
        target's numbers (its first by default).
        """
        response = _response()
        if previous_name is None and 0 < position <= len(self.targets):
            previous_name = self.targets[position - 1].name
        if previous_name and previous_outcome in LEG_OUTCOMES:
            self._say(response, LEG_OUTCOMES[previous_outcome].format(name=previous_name))
        self._connect_into(response, position, leg, office)
        return response

    def ask_zip(self, tries: int, *, not_found: bool = False) -> VoiceResponse:
        """Ask the caller to key in their ZIP code (``tries`` times asked before)."""
        response = _response()
        if not_found:
            self._say(response, ZIP_NOT_FOUND)
        self._ask_zip_into(response, tries)
        return response

    def zip_entered(self, tries: int) -> VoiceResponse:
        """After a ZIP code was keyed in (``tries`` times asked): connect, ask again, or give up."""
        if not self.needs_zip:
            return self.connect(0)
        if tries + 1 < ZIP_TRIES:
            return self.ask_zip(tries + 1, not_found=True)
        if self.targets:  # the line's fallback
            return self.connect(0)
        response = _response()
        self._say(response, NO_TARGET_FOUND)
        response.hangup()
        return response

    def closed(self, target: ResolvedTarget) -> bool:
        """Whether ``target``'s office is outside its hours at the time of the call."""
        if not self.line.hours_enabled:
            return False
        return not hours.for_target(self.line, target).is_open(self.now or timezone.now())

    def open_from(self, position: int) -> tuple[int, list[ResolvedTarget]]:
        """The first target from ``position`` whose office is open, and the closed ones passed over."""
        skipped: list[ResolvedTarget] = []
        while position < len(self.targets) and self.closed(self.targets[position]):
            skipped.append(self.targets[position])
            position += 1
        return position, skipped

    def reminded(self, digits: str, *, scheduled: bool) -> VoiceResponse:
        """After the caller answered the reminder offer: confirm the reminder when ``scheduled``, then goodbye."""
        if digits == OPT_OUT_KEY:
            return self.opted_out()
        response = _response()
        if scheduled:
            self._say(response, REMIND_SET)
        self._closing(response)
        response.hangup()
        return response

    # Pieces

    def _ask_zip_into(self, response: Any, tries: int) -> None:
        url = self.urls.zip(tries)
        gather = response.gather(num_digits=ZIP_DIGITS, action=url, method="POST", timeout=GATHER_TIMEOUT)
        self._say(gather, ASK_ZIP)
        response.redirect(url, method="POST")  # no key: counts as a try

    def _connect_into(self, response: Any, position: int, leg: int | None = None, office: int = 0) -> None:
        if office == 0:
            following, skipped = self.open_from(position)
            for target in skipped:
                self._say(response, CLOSED_NOW.format(name=target.name))
            leg = (position if leg is None else leg) + len(skipped)
            position = following
        if position >= len(self.targets):
            if self.offer_reminder and self.urls.remind:
                gather = response.gather(num_digits=1, action=self.urls.remind, method="POST", timeout=GATHER_TIMEOUT)
                self._say(gather, REMIND_PROMPT)
            self._closing(response)
            response.hangup()
            return
        target = self.targets[position]
        number = target.offices[min(office, len(target.offices) - 1)]
        announce = (ANNOUNCE_OFFICE if office else ANNOUNCE).format(name=target.name)
        if position + 1 < len(self.targets):
            announce += ANNOUNCE_SKIP_HINT
        self._say(response, announce)
        dial = response.dial(
            action=self.urls.dial(position if leg is None else leg),
            method="POST",
            timeout=self.ring_timeout,
            hangup_on_star=True,
            caller_id=self.caller_number or self.line.phone_number,
        )
        dial.number(number.phone_number, send_digits=number.extension or None)

    def _gather(self, response: Any) -> Any:
        return response.gather(num_digits=1, action=self.urls.gather, method="POST", timeout=GATHER_TIMEOUT)

    def _script(self, verb: Any) -> None:
        if self.line.script_audio_url:
            verb.play(self.line.script_audio_url)
        else:
            self._say(verb, render(self.line.script, self.variables))

    def _closing(self, verb: Any) -> None:
        self._say(verb, render(self.line.closing_message, self.variables))

    def _say(self, verb: Any, text: str) -> None:
        text = plain_text(text)
        if text:
            verb.say(text, voice=self.line.voice or None, language=self.line.language or None)


def _response() -> VoiceResponse:
    from twilio.twiml.voice_response import VoiceResponse

    return VoiceResponse()


def next_step(
    targets: Sequence[ResolvedTarget], leg: CallLeg | None, position: int, outcome: str = ""
) -> tuple[int, int]:
    """The index in ``targets`` (the list as it is now) of what to dial after ``leg``, and which of its offices.

    A member of Congress whose office was busy or did not answer (``outcome``) has their
    next office dialed, when the line gives them several. Staff may switch custom
    targets on or off, add or reorder them while calls are live: the next one is the
    first ordered after the one just called, not the next index of a list that has
    changed. Without the target (deleted), the next index.
    """
    if leg is not None and leg.member_id:
        for index, target in enumerate(targets):
            if target.member_id == leg.member_id:
                office_ids = [office.office_id for office in target.offices]
                office = office_ids.index(leg.office_id) if leg.office_id in office_ids else len(office_ids)
                if outcome in TRY_NEXT_OFFICE and office + 1 < len(office_ids):
                    return index, office + 1
                return index + 1, 0
        return position + 1, 0
    called = leg.target if leg is not None else None
    if called is None:
        return position + 1, 0
    after = (called.position, called.pk)
    custom = [i for i, target in enumerate(targets) if target.target_id is not None]
    following = next((i for i in custom if targets[i].order_key > after), None)
    if following is None:  # past the last custom target: what comes after them (members, or the end)
        earlier = [i for i in custom if targets[i].order_key <= after]
        following = earlier[-1] + 1 if earlier else (len(targets) if custom else position + 1)
    return following, 0


def caller_id_for(attempt: CallAttempt, called: str) -> str:
    """The caller's own number to show to targets, or "" for the line's.

    Twilio accepts as a ``<Dial>``'s ``callerId`` only a number of the account, a verified
    caller id, or the calling or called number of the call itself (error 13214). The
    caller's number qualifies because it is the ``To`` of the call this service placed:
    it is used only when the line asks for it and the signed webhook request reports
    that very number as the call's ``To``.
    """
    line = attempt.line
    if line.caller_id != line.CallerId.CALLER or not attempt.phone or called != attempt.phone:
        return ""
    return attempt.phone


# Reading TwiML back as a transcript


def describe(twiml: str | VoiceResponse) -> list[str]:
    """What a caller would hear and what the call would do, one line per verb."""
    root = ET.fromstring(str(twiml).encode())
    lines: list[str] = []
    _describe_into(lines, root, "")
    return lines


def _describe_into(lines: list[str], element: ET.Element, indent: str) -> None:
    for verb in element:
        text = (verb.text or "").strip()
        if verb.tag == "Say":
            lines.append(f'{indent}Says: "{text}"')
        elif verb.tag == "Play":
            lines.append(f"{indent}Plays: {text}")
        elif verb.tag == "Pause":
            lines.append(f"{indent}Pauses {verb.get('length', '1')} s")
        elif verb.tag == "Gather":
            lines.append(f"{indent}Listens for a key while saying:")
            _describe_into(lines, verb, indent + "  ")
        elif verb.tag == "Dial":
            for number in verb:
                line = f"{indent}Dials {(number.text or '').strip()}"
                if number.get("sendDigits"):
                    line += f", then sends the digits {number.get('sendDigits')}"
                if verb.get("hangupOnStar") == "true":
                    line += " (* moves on)"
                lines.append(line)
        elif verb.tag == "Hangup":
            lines.append(f"{indent}Hangs up")
        elif verb.tag == "Redirect":
            again = "/gather/" in text or "/zip/" in text
            lines.append(f"{indent}Without a key: asks again" if again else f"{indent}Continues at {text}")
        else:
            lines.append(f"{indent}{verb.tag}")


@dataclass
class Stage:
    """One step of the call in a preview: when it happens, its TwiML and transcript."""

    title: str
    twiml: str
    transcript: list[str] = field(default_factory=list)


def preview(
    line: CampaignLine,
    variables: Mapping[str, Any],
    targets: Iterable[ResolvedTarget] | None = None,
    now: dt.datetime | None = None,
) -> list[Stage]:
    """Every step of a call on ``line`` for these variables, as the webhooks would answer (at ``now``)."""
    flow = CallFlow.for_line(line, variables, "preview", targets, now=now)
    stages: list[tuple[str, VoiceResponse]] = [("A person answers", flow.answer("human"))]
    if line.human_check == line.HumanCheck.MACHINE_DETECTION:
        stages.append(("A machine answers", flow.answer("machine_end_beep")))
    if (flow.targets or flow.needs_zip) and line.human_check != line.HumanCheck.NONE:
        stages.append(("The person presses 1", flow.keypress(CONNECT_KEY)))
        stages.append(("The person presses 9 (opt-out)", flow.keypress(OPT_OUT_KEY)))
        stages.append(("No key or another key is pressed", flow.keypress("")))
    if flow.needs_zip:
        stages.append(("No member is found after the ZIP code is asked twice", flow.zip_entered(ZIP_TRIES - 1)))
    for position in range(1, len(flow.targets) + 1):
        previous = flow.targets[position - 1].name
        stages.append((f"After the call with {previous} ends (or * is pressed)", flow.connect(position)))
    return [Stage(title, str(twiml), describe(twiml)) for title, twiml in stages]


def transcript(
    line: CampaignLine, variables: Mapping[str, Any], targets: Iterable[ResolvedTarget] | None = None
) -> str:
    """A readable account of the whole call, for logs and the admin."""
    out: list[str] = []
    for stage in preview(line, variables, targets):
        out.append(f"{stage.title}:")
        out.extend("  " + text for text in stage.transcript)
    return "\n".join(out)


def machine_detection(line: CampaignLine) -> str:
    """Twilio's ``MachineDetection`` mode for the line's human check ("" when off).

    To leave a message the call waits for the beep (``DetectMessageEnd``); to hang up on
    a machine the first answer is enough (``Enable``).
    """
    if line.human_check != line.HumanCheck.MACHINE_DETECTION:
        return ""
    return "DetectMessageEnd" if line.machine_action == line.MachineAction.LEAVE_MESSAGE else "Enable"


def request_extra(attempt: CallAttempt, backend: Any) -> dict[str, Any]:
    """Extra data for backends that show the call instead of placing it (``describes_calls``).

    The transcript is built for a staff's test call, whose page shows it, and when the
    backend's log writes it; other simulated calls render it when staff open them.
    """
    if not getattr(backend, "describes_calls", False):
        return {}
    variables = attempt_variables(attempt)
    targets = target_sources.resolve(attempt.line, variables, seed=attempt.token).targets
    extra: dict[str, Any] = {"targets": [(target.name, target.phone_number, target.extension) for target in targets]}
    wants_transcript = getattr(backend, "wants_transcript", None)
    if attempt.is_test or wants_transcript is None or wants_transcript():
        extra["transcript"] = transcript(attempt.line, variables, targets)
    return extra
