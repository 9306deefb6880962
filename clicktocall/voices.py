"""The text-to-speech voices and languages a line's script may be spoken in.

The table (``data/voices.csv``, ``data/languages.csv``) lists the voices Twilio's
``<Say>`` accepts, Amazon Polly and Google, named as Twilio names them
(``Polly.Joanna``, ``Polly.Joanna-Neural``, ``Google.en-US-Standard-C``), each with the
one language it speaks. A line's voice must be in the table and speak the line's
language; an empty voice means the provider account's default voice.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class Voice:
    name: str
    language: str
    gender: str
    provider: str
    engine: str

    @property
    def label(self) -> str:
        """``Joanna (female, neural)``: the voice as staff choose it."""
        short = self.name.split(".", 1)[1].removesuffix("-Neural")
        if self.provider == "Google":
            short = short.removeprefix(self.language + "-")
        return f"{short} ({self.gender}, {self.provider} {self.engine})"


def _rows(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(encoding="utf-8") as f:
        return list(csv.DictReader(line for line in f if not line.startswith("#")))


@cache
def voices() -> dict[str, Voice]:
    """Every supported voice by its Twilio name."""
    return {
        row["voice"]: Voice(row["voice"], row["language"], row["gender"], row["provider"], row["engine"])
        for row in _rows("voices.csv")
    }


@cache
def languages() -> dict[str, str]:
    """Every language a voice speaks: ``{code: name}``, sorted by name."""
    return {row["language"]: row["name"] for row in _rows("languages.csv")}


def language_choices() -> list[tuple[str, str]]:
    return [(code, f"{name} – {code}") for code, name in languages().items()]


def voice_choices() -> list[tuple[str, list[tuple[str, str]]] | tuple[str, str]]:
    """The voices grouped by language (for a ``<select>`` with ``<optgroup>``)."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for voice in voices().values():
        groups.setdefault(voice.language, []).append((voice.name, voice.label))
    return [("", "The provider account's default voice")] + [
        (f"{name} – {code}", groups[code]) for code, name in languages().items() if code in groups
    ]


def voice_problem(voice: str, language: str) -> str | None:
    """Why ``voice`` cannot speak a script in ``language``, or None."""
    if language not in languages():
        return f"{language!r} is not a language of the supported voices; choose one from the list, e.g. en-US."
    if not voice:
        return None
    found = voices().get(voice)
    if found is None:
        close = [name for name in voices() if name.lower().split(".")[-1].startswith(voice.lower().split(".")[-1][:4])]
        hint = f" Did you mean {', '.join(close[:3])}?" if close else ""
        return (
            f"{voice!r} is not a supported voice: choose one from the list (Amazon Polly or Google voices, "
            f"named as Twilio names them, e.g. Polly.Joanna or Google.en-US-Standard-C).{hint}"
        )
    if found.language != language:
        spoken = f"{languages()[found.language]} ({found.language})"
        return f"{voice} speaks {spoken}: choose that language, or another voice."
    return None
