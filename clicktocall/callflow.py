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
   sent as ``sendDigits``; after the last one the closing message.

Scripts are staff-written text with ``{{ variable }}`` placeholders, rendered by plain
substitution (never Django's template language); a missing variable renders empty and
values are plain text, which ``VoiceResponse`` escapes, so they cannot inject TwiML.

The same code builds the admin preview and the console backend's transcript, so what
they show is what the call does.
"""

from __future__ import annotations

import re
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.urls import reverse

from .conf import conf

if TYPE_CHECKING:
    from twilio.twiml.voice_response import VoiceResponse

    from .models import CallAttempt, CampaignLine, Target

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
LEG_OUTCOMES = {
    "busy": "{name} is busy.",
    "no-answer": "{name} did not answer.",
    "failed": "We could not reach {name}.",
    "canceled": "We could not reach {name}.",
}

_PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_TEMPLATE_TAG = re.compile(r"\{%.*?%\}|\{#.*?#\}", re.DOTALL)
_NAME = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_-]*)\s*$")


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
    """Replace each ``{{ key }}`` with the value of ``key`` (empty when missing).

    Only plain placeholders are understood: filters, template tags (``{% … %}``) and
    comments are never evaluated; a placeholder that is not a plain name renders empty
    and tags are dropped, so nothing of the template language reaches the caller.
    """
    if not template:
        return ""

    def substitute(match: re.Match[str]) -> str:
        name = _NAME.match(match.group(1))
        return spoken_value(variables.get(name.group(1))) if name else ""

    text = _PLACEHOLDER.sub(substitute, _TEMPLATE_TAG.sub("", template))
    return plain_text(text)[:MAX_SAY_LENGTH]


def placeholders(template: str) -> list[str]:
    """The variable names a template uses, in order of first use."""
    names: list[str] = []
    for match in _PLACEHOLDER.finditer(_TEMPLATE_TAG.sub("", template or "")):
        name = _NAME.match(match.group(1))
        if name and name.group(1) not in names:
            names.append(name.group(1))
    return names


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

    @classmethod
    def for_token(cls, token: str) -> FlowUrls:
        base = conf.PUBLIC_URL

        def dial(position: int) -> str:
            return base + reverse("clicktocall:twilio-dial", kwargs={"token": token, "position": position})

        return cls(gather=base + reverse("clicktocall:twilio-gather", kwargs={"token": token}), dial=dial)


@dataclass
class CallFlow:
    """The TwiML of each step of one call on one line."""

    line: CampaignLine
    targets: Sequence[Target]
    variables: Mapping[str, Any]
    urls: FlowUrls
    ring_timeout: int = 30

    @classmethod
    def for_line(
        cls, line: CampaignLine, variables: Mapping[str, Any], token: str, targets: Iterable[Target] | None = None
    ) -> CallFlow:
        """The flow of a call on ``line`` whose webhook URLs carry ``token`` (the line's active targets by default)."""
        return cls(
            line=line,
            targets=list(targets) if targets is not None else active_targets(line),
            variables=variables,
            urls=FlowUrls.for_token(token),
            ring_timeout=conf.RING_TIMEOUT,
        )

    @classmethod
    def for_attempt(cls, attempt: CallAttempt) -> CallFlow:
        return cls.for_line(attempt.line, attempt_variables(attempt), attempt.token)

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
        if not self.targets:
            self._script(response)
            self._closing(response)
            response.hangup()
            return response
        if line.human_check == line.HumanCheck.NONE:
            self._script(response)
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
        self, position: int, previous_outcome: str = "", *, previous_name: str | None = None, leg: int | None = None
    ) -> VoiceResponse:
        """Report how the previous target call went, then dial the target at ``position``.

        ``previous_name`` names the target just called and ``leg`` numbers the next
        connection of the call, when the list changed since the call began (by default
        the target before ``position``, and ``position``).
        """
        response = _response()
        if previous_name is None and 0 < position <= len(self.targets):
            previous_name = self.targets[position - 1].name
        if previous_name and previous_outcome in LEG_OUTCOMES:
            self._say(response, LEG_OUTCOMES[previous_outcome].format(name=previous_name))
        self._connect_into(response, position, leg)
        return response

    # Pieces

    def _connect_into(self, response: Any, position: int, leg: int | None = None) -> None:
        if position >= len(self.targets):
            self._closing(response)
            response.hangup()
            return
        target = self.targets[position]
        announce = ANNOUNCE.format(name=target.name)
        if position + 1 < len(self.targets):
            announce += ANNOUNCE_SKIP_HINT
        self._say(response, announce)
        dial = response.dial(
            action=self.urls.dial(position if leg is None else leg),
            method="POST",
            timeout=self.ring_timeout,
            hangup_on_star=True,
            caller_id=self.line.phone_number,
        )
        dial.number(target.phone_number, send_digits=target.extension or None)

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


def next_target(targets: Sequence[Target], called: Target | None, position: int) -> int:
    """The index in ``targets`` (the list as it is now) of the target to call after ``called``.

    Staff may switch targets on or off, add or reorder them while calls are live: the
    next target is the first one ordered after the one just called, not the next index
    of a list that has changed. Without the target (deleted), the next index.
    """
    if called is None:
        return position + 1
    after = (called.position, called.pk)
    return next((i for i, target in enumerate(targets) if (target.position, target.pk) > after), len(targets))


def active_targets(line: CampaignLine) -> list[Target]:
    """The line's active targets in the order they are called."""
    if line.pk is None:
        return []
    kept = getattr(line, "active_targets", None)  # read with the line (``lines.find``)
    if kept is not None:
        return list(kept)
    return list(line.targets.filter(is_active=True).order_by("position", "pk"))


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
            lines.append(f"{indent}Without a key: asks again" if "/gather/" in text else f"{indent}Continues at {text}")
        else:
            lines.append(f"{indent}{verb.tag}")


@dataclass
class Stage:
    """One step of the call in a preview: when it happens, its TwiML and transcript."""

    title: str
    twiml: str
    transcript: list[str] = field(default_factory=list)


def preview(line: CampaignLine, variables: Mapping[str, Any], targets: Iterable[Target] | None = None) -> list[Stage]:
    """Every step of a call on ``line`` for these variables, as the webhooks would answer."""
    flow = CallFlow.for_line(line, variables, "preview", targets)
    stages: list[tuple[str, VoiceResponse]] = [("A person answers", flow.answer("human"))]
    if line.human_check == line.HumanCheck.MACHINE_DETECTION:
        stages.append(("A machine answers", flow.answer("machine_end_beep")))
    if flow.targets and line.human_check != line.HumanCheck.NONE:
        stages.append(("The person presses 1", flow.keypress(CONNECT_KEY)))
        stages.append(("The person presses 9 (opt-out)", flow.keypress(OPT_OUT_KEY)))
        stages.append(("No key or another key is pressed", flow.keypress("")))
    for position in range(1, len(flow.targets) + 1):
        previous = flow.targets[position - 1].name
        stages.append((f"After the call with {previous} ends (or * is pressed)", flow.connect(position)))
    return [Stage(title, str(twiml), describe(twiml)) for title, twiml in stages]


def transcript(line: CampaignLine, variables: Mapping[str, Any], targets: Iterable[Target] | None = None) -> str:
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
    """Extra data for backends that show the call instead of placing it (``describes_calls``)."""
    if not getattr(backend, "describes_calls", False):
        return {}
    targets = active_targets(attempt.line)
    return {
        "transcript": transcript(attempt.line, attempt_variables(attempt), targets),
        "targets": [(target.name, target.phone_number, target.extension) for target in targets],
    }
