"""Reading, checking and loading a release of the US Congress data.

A release is three files, from a folder or a URL (each may also be ``.xz`` or ``.gz``
compressed):

- ``zccd.csv``: ``state_fips,state_abbr,zcta,cd``, ZIP code tabulation area → district;
- ``legislators-current.yaml``: the sitting members (the last term counts);
- ``legislators-district-offices.yaml``: their district offices.

Before anything is replaced the release is checked (``problems``): 100 Senate seats,
435 House seats plus the six delegates, every district of the ZIP file held or known
vacant, every phone number valid, no id twice. The swap is one transaction: a check or
a database error leaves the old data as it was.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import hashlib
import io
import json
import logging
import lzma
import os
import urllib.parse
import urllib.request
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from django.db import IntegrityError, transaction

from ... import phone
from .location import STATES, TERRITORIES
from .models import CongressDataset, CongressMember, CongressOffice, ZipDistrict, seat_code

logger = logging.getLogger("clicktocall.targets.us_congress")

ZCCD = "zccd.csv"
MEMBERS = "legislators-current.yaml"
OFFICES = "legislators-district-offices.yaml"
FILES = (ZCCD, MEMBERS, OFFICES)
MANIFEST = "manifest.json"
PACKAGE_DATA = Path(__file__).resolve().parent / "data"
MAX_FILE_BYTES = 64 * 1024 * 1024
URL_TIMEOUT = 60
SENATE_SEATS = 100
HOUSE_SEATS = 435
BATCH = 2000

# The main time zone of each state and territory, for offices outside Washington.
STATE_TIME_ZONES = {
    **dict.fromkeys("CT DE DC FL GA IN KY ME MD MA MI NH NJ NY NC OH PA RI SC VT VA WV".split(), "America/New_York"),
    **dict.fromkeys("AL AR IL IA KS LA MN MS MO NE ND OK SD TN TX WI".split(), "America/Chicago"),
    **dict.fromkeys("CO ID MT NM UT WY".split(), "America/Denver"),
    "AZ": "America/Phoenix",
    **dict.fromkeys("CA NV OR WA".split(), "America/Los_Angeles"),
    "AK": "America/Anchorage",
    "HI": "Pacific/Honolulu",
    "PR": "America/Puerto_Rico",
    "VI": "America/St_Thomas",
    "GU": "Pacific/Guam",
    "MP": "Pacific/Saipan",
    "AS": "Pacific/Pago_Pago",
}
DC_TIME_ZONE = "America/New_York"


class DataError(Exception):
    """A release that cannot be read, or that fails the checks (``problems`` lists why)."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


@dataclass
class Release:
    """The parsed files of one release, and what was read about them."""

    source: str
    members: list[dict[str, Any]] = field(default_factory=list)
    offices: list[dict[str, Any]] = field(default_factory=list)
    zips: list[tuple[str, str, int]] = field(default_factory=list)
    checksums: dict[str, str] = field(default_factory=dict)
    manifest: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def version(self) -> str:
        digest = hashlib.sha256("".join(self.checksums[name] for name in sorted(self.checksums)).encode())
        return f"{self.released.isoformat()}-{digest.hexdigest()[:12]}"

    @property
    def released(self) -> dt.date:
        dates = [item.get("date", "") for item in self.manifest.get("files", {}).values()]
        try:
            return max(dt.date.fromisoformat(d) for d in dates if d)
        except ValueError:
            return dt.date.today()


# Reading


def _is_url(source: str) -> bool:
    return urllib.parse.urlsplit(source).scheme in ("http", "https")


def _fetch(source: str, name: str) -> bytes | None:
    """The bytes of ``name`` (or its .xz/.gz form) in the folder or URL ``source``; None when absent."""
    for candidate in (name, name + ".xz", name + ".gz"):
        if _is_url(source):
            url = source.rstrip("/") + "/" + urllib.parse.quote(candidate)
            try:
                with urllib.request.urlopen(url, timeout=URL_TIMEOUT) as response:  # noqa: S310 (http(s) only)
                    raw = response.read(MAX_FILE_BYTES + 1)
            except urllib.error.HTTPError as exc:
                if exc.code == 404:
                    continue
                raise DataError(f"{url}: HTTP {exc.code}") from None
            except (urllib.error.URLError, OSError) as exc:
                raise DataError(f"{url}: {exc}") from None
        else:
            path = Path(source) / candidate
            if not path.is_file():
                continue
            if path.stat().st_size > MAX_FILE_BYTES:
                raise DataError(f"{path}: larger than {MAX_FILE_BYTES} bytes")
            raw = path.read_bytes()
        if len(raw) > MAX_FILE_BYTES:
            raise DataError(f"{candidate}: larger than {MAX_FILE_BYTES} bytes")
        try:
            if candidate.endswith(".xz"):
                return lzma.decompress(raw)
            if candidate.endswith(".gz"):
                return gzip.decompress(raw)
        except (lzma.LZMAError, OSError, EOFError) as exc:
            raise DataError(f"{candidate}: cannot be decompressed ({exc})") from None
        return raw
    return None


def read(source: str) -> Release:
    """Read and parse the release at ``source`` (a folder or an http(s) URL); raise ``DataError``."""
    source = str(source)
    if not _is_url(source) and not Path(source).is_dir():
        raise DataError(f"{source}: not a folder nor an http(s) URL")
    release = Release(source=source)
    raw: dict[str, bytes] = {}
    for name in FILES:
        data = _fetch(source, name)
        if data is None:
            raise DataError(f"{name} is missing from {source}")
        raw[name] = data
        release.checksums[name] = hashlib.sha256(data).hexdigest()
    manifest = _fetch(source, MANIFEST)
    if manifest is not None:
        try:
            release.manifest = json.loads(manifest)
        except ValueError:
            raise DataError(f"{MANIFEST} is not valid JSON") from None
        if not isinstance(release.manifest, dict):
            raise DataError(f"{MANIFEST} must be a JSON object")
    try:
        _parse_zccd(release, raw[ZCCD].decode("utf-8-sig"))
        members = yaml.load(raw[MEMBERS], Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        offices = yaml.load(raw[OFFICES], Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (UnicodeDecodeError, yaml.YAMLError, csv.Error) as exc:
        raise DataError(f"cannot be parsed: {exc}") from None
    if not isinstance(members, list) or not isinstance(offices, list):
        raise DataError("the legislators files must be YAML lists")
    _parse_members(release, members)
    _parse_offices(release, offices)
    return release


def _parse_zccd(release: Release, text: str) -> None:
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or not {"state_abbr", "zcta", "cd"} <= set(reader.fieldnames):
        raise DataError(f"{ZCCD}: the header must name state_abbr, zcta and cd")
    seen: set[tuple[str, str, int]] = set()
    for number, row in enumerate(reader, start=2):
        zcta, state, cd = ((row.get(k) or "").strip() for k in ("zcta", "state_abbr", "cd"))
        if len(zcta) != 5 or not zcta.isdigit() or state not in STATES | TERRITORIES or not cd.isdigit():
            release.problems.append(f"{ZCCD} line {number}: not a ZIP area, state and district: {row}")
            continue
        key = (zcta, state, int(cd))
        if key not in seen:
            seen.add(key)
            release.zips.append(key)


def _number(release: Release, text: Any, where: str) -> str:
    if text in (None, ""):
        return ""
    try:
        return phone.normalize(str(text), "US")
    except phone.InvalidNumber:
        release.problems.append(f"{where}: the phone number {text!r} is not valid")
        return ""


def _title(term: dict[str, Any]) -> str:
    if term.get("type") == "sen":
        return "Senator"
    if term.get("state") == "PR":
        return "Resident Commissioner"
    return "Delegate" if term.get("state") in TERRITORIES else "Representative"


def _parse_members(release: Release, entries: list[Any]) -> None:
    for index, entry in enumerate(entries):
        try:
            bioguide = str(entry["id"]["bioguide"])
            term = entry["terms"][-1]
            name = entry["name"].get("official_full") or f"{entry['name']['first']} {entry['name']['last']}"
            chamber = {"sen": "senate", "rep": "house"}[term["type"]]
            state = str(term["state"])
            district = None if chamber == "senate" else int(term["district"])
            term_end = dt.date.fromisoformat(str(term["end"]))
        except (KeyError, IndexError, TypeError, ValueError, AttributeError):
            release.problems.append(f"{MEMBERS} entry {index + 1}: no bioguide id, name or current term")
            continue
        if state not in STATES | TERRITORIES:
            release.problems.append(f"{bioguide}: unknown state {state!r}")
            continue
        release.members.append(
            {
                "bioguide": bioguide,
                "chamber": chamber,
                "title": _title(term),
                "name": str(name)[:255],
                "state": state,
                "district": district,
                "state_rank": str(term.get("state_rank") or "")[:8],
                "party": str(term.get("party") or "")[:64],
                "phone_number": _number(release, term.get("phone"), bioguide),
                "term_end": term_end,
            }
        )


def _parse_offices(release: Release, entries: list[Any]) -> None:
    for index, entry in enumerate(entries):
        try:
            bioguide = str(entry["id"]["bioguide"])
            offices = entry.get("offices") or []
        except (KeyError, TypeError, AttributeError):
            release.problems.append(f"{OFFICES} entry {index + 1}: no bioguide id")
            continue
        for office in offices:
            if not isinstance(office, dict) or not office.get("id"):
                release.problems.append(f"{OFFICES}: an office of {bioguide} has no id")
                continue
            number = _number(release, office.get("phone"), str(office["id"]))
            if not number:
                continue  # an office without a phone cannot be dialed
            release.offices.append(
                {
                    "office_id": str(office["id"])[:96],
                    "member_id": bioguide,
                    "city": str(office.get("city") or "")[:128],
                    "state": str(office.get("state") or "")[:2],
                    "zip": str(office.get("zip") or "")[:10],
                    "latitude": _float(office.get("latitude")),
                    "longitude": _float(office.get("longitude")),
                    "phone_number": number,
                }
            )


def _float(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


# Checking


def seat(member: dict[str, Any]) -> str:
    return seat_code(member["chamber"], member["state"], member["district"])


def check(release: Release, vacant: set[str]) -> list[str]:
    """Why ``release`` may not replace the data (empty when it may); ``vacant`` seats may be empty.

    What does not stop a release is noted in ``release.notes``: a member without a phone
    number yet (skipped in calls), offices of someone who no longer sits (left out).
    """
    problems = list(release.problems)
    ids = Counter(m["bioguide"] for m in release.members)
    problems += [f"the member {bioguide} is listed {n} times" for bioguide, n in ids.items() if n > 1]
    office_ids = Counter(o["office_id"] for o in release.offices)
    problems += [f"the office {office} is listed {n} times" for office, n in office_ids.items() if n > 1]

    seats = Counter(seat(m) for m in release.members)
    senators = Counter(m["state"] for m in release.members if m["chamber"] == "senate")
    for state in sorted(STATES):
        held = senators.get(state, 0) + (1 if f"{state}-senate" in vacant else 0)
        if held != 2:
            problems.append(f"{state} has {senators.get(state, 0)} senators (2 seats)")
    problems += [f"{state} has senators but no Senate seats" for state in sorted(set(senators) - STATES)]
    if sum(senators.values()) + sum(1 for v in vacant if v.endswith("-senate")) != SENATE_SEATS:
        problems.append(f"{sum(senators.values())} senators for {SENATE_SEATS} Senate seats")
    house = {s for s in seats if not s.endswith("-senate")}
    problems += [f"the seat {s} is held by {seats[s]} members" for s in sorted(house) if seats[s] > 1]
    vacant_house = {v for v in vacant if not v.endswith("-senate")}
    voting = {s for s in house | vacant_house if s[:2] in STATES}
    if len(voting) != HOUSE_SEATS:
        problems.append(f"{len(voting)} House seats held or known vacant, not {HOUSE_SEATS}")
    for territory in sorted(TERRITORIES):
        if f"{territory}-00" not in house | vacant:
            problems.append(f"{territory} has no delegate and is not known vacant")
    for state, district in sorted({(s, d) for _, s, d in release.zips}):
        code = seat_code("house", state, district)
        if code not in house and code not in vacant:
            problems.append(f"the district {code} of the ZIP file has no member and is not known vacant")

    orphans = sorted({o["member_id"] for o in release.offices if o["member_id"] not in ids})
    release.offices = [o for o in release.offices if o["member_id"] in ids]
    reachable = {o["member_id"] for o in release.offices}
    release.notes = [f"offices of {b}, who is not a sitting member, are left out" for b in orphans]
    release.notes += [
        f"the member {m['bioguide']} has no phone number yet (skipped in calls)"
        for m in release.members
        if not m["phone_number"] and m["bioguide"] not in reachable
    ]
    return problems


def vacancies(release: Release, known: set[str]) -> set[str]:
    """The seats of ``known`` (and of the release's manifest) that the release leaves empty."""
    held = {seat(m) for m in release.members}
    listed = set(known) | set(release.manifest.get("vacant", []))
    return {code for code in listed if code not in held}


# Comparing and loading


def changes(release: Release) -> list[str]:
    """What loading ``release`` changes: members in and out, ZIP areas whose districts moved."""
    old = {m.bioguide: m for m in CongressMember.objects.all()}
    new = {m["bioguide"]: m for m in release.members}
    if not old:
        zctas = len({z for z, _, _ in release.zips})
        return [f"first load: {len(new)} members, {len(release.offices)} district offices, {zctas} ZIP code areas"]
    lines = [f"in: {m['title']} {m['name']} ({seat(m)}, {b})" for b, m in sorted(new.items()) if b not in old]
    lines += [f"out: {m.label} ({m.seat}, {b})" for b, m in sorted(old.items()) if b not in new]
    lines += [
        f"moved: {m['title']} {m['name']} {old[b].seat} → {seat(m)}"
        for b, m in sorted(new.items())
        if b in old and old[b].seat != seat(m)
    ]
    before: dict[str, set[str]] = defaultdict(set)
    for zcta, state, district in ZipDistrict.objects.values_list("zcta", "state", "district").iterator(chunk_size=5000):
        before[zcta].add(f"{state}-{district:02d}")
    after: dict[str, set[str]] = defaultdict(set)
    for zcta, state, district in release.zips:
        after[zcta].add(f"{state}-{district:02d}")
    moved = sorted(z for z in set(before) | set(after) if before.get(z) != after.get(z))
    if before and moved:
        examples = ", ".join(
            f"{z} {','.join(sorted(before.get(z, ()))) or '-'} → {','.join(sorted(after.get(z, ()))) or '-'}"
            for z in moved[:10]
        )
        lines.append(f"districts moved for {len(moved)} ZIP code areas, e.g. {examples}")
    return lines


def replace(release: Release, vacant: set[str]) -> CongressDataset:
    """Replace the loaded data with ``release`` in one transaction."""
    files = release.manifest.get("files", {})
    with transaction.atomic():
        CongressDataset.objects.all().delete()
        ZipDistrict.objects.all().delete()
        CongressOffice.objects.all().delete()
        CongressMember.objects.all().delete()
        CongressMember.objects.bulk_create((CongressMember(**m) for m in release.members), batch_size=BATCH)
        CongressOffice.objects.bulk_create((CongressOffice(**o) for o in release.offices), batch_size=BATCH)
        ZipDistrict.objects.bulk_create(
            (ZipDistrict(zcta=z, state=s, district=d) for z, s, d in release.zips), batch_size=BATCH
        )
        dataset = CongressDataset.objects.create(
            version=release.version,
            source=release.source[:2048],
            released=release.released,
            commits={name: info.get("commit", "") for name, info in files.items() if isinstance(info, dict)},
            checksums=release.checksums,
            vacant=sorted(vacant),
        )
    logger.info("US Congress data %s loaded from %s", dataset.version, release.source)
    return dataset


def load(source: str | os.PathLike[str], vacant: set[str] | None = None) -> tuple[CongressDataset, list[str]]:
    """Read, check and load a release; raise ``DataError`` (data untouched) when it fails a check."""
    release = read(str(source))
    current = CongressDataset.objects.first()
    known = vacancies(release, set(vacant or ()) | set(current.vacant if current else ()))
    problems = check(release, known)
    if problems:
        raise DataError(f"the release at {source} fails {len(problems)} checks", problems)
    lines = [f"note: {note}" for note in release.notes] + changes(release)
    return replace(release, known), lines


def load_if_missing() -> bool:
    """Load the shipped release when no data is loaded; whether it was loaded now."""
    if CongressDataset.objects.exists():
        return False
    return current() is not None


def current() -> CongressDataset | None:
    """The loaded dataset; the shipped one is loaded first when there is none."""
    dataset = CongressDataset.objects.first()
    if dataset is not None:
        return dataset
    try:
        return load(PACKAGE_DATA)[0]
    except IntegrityError:  # another process loaded it at the same time
        return CongressDataset.objects.first()


# Packing a release into the package


def pack(source: str, destination: Path, provenance: dict[str, dict[str, str]], vacant: set[str]) -> dict[str, Any]:
    """Write the parts of a release the service reads, xz-compressed, with a manifest of their provenance."""
    destination.mkdir(parents=True, exist_ok=True)
    manifest: dict[str, Any] = {"files": {}, "vacant": sorted(vacant)}
    for name in FILES:
        original = _fetch(source, name)
        if original is None:
            raise DataError(f"{name} is missing from {source}")
        data = _trim(name, original)
        (destination / f"{name}.xz").write_bytes(lzma.compress(data, preset=9 | lzma.PRESET_EXTREME))
        manifest["files"][name] = {
            **provenance.get(name, {}),
            "sha256_source": hashlib.sha256(original).hexdigest(),
            "sha256": hashlib.sha256(data).hexdigest(),
        }
    (destination / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest


def _trim(name: str, data: bytes) -> bytes:
    """The fields the service reads: the members' current term, the offices' place and phone."""
    if name == ZCCD:
        return data
    entries = yaml.load(data, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    if name == MEMBERS:
        keep = ("type", "state", "district", "party", "phone", "end", "state_rank")
        entries = [
            {
                "id": {"bioguide": e["id"]["bioguide"]},
                "name": {k: e["name"][k] for k in ("first", "last", "official_full") if k in e["name"]},
                "terms": [{k: e["terms"][-1][k] for k in keep if k in e["terms"][-1]}],
            }
            for e in entries
        ]
    else:
        keep = ("id", "city", "state", "zip", "latitude", "longitude", "phone")
        entries = [
            {
                "id": {"bioguide": e["id"]["bioguide"]},
                "offices": [{k: o[k] for k in keep if k in o} for o in e.get("offices") or []],
            }
            for e in entries
        ]
    return yaml.dump(
        entries, sort_keys=False, allow_unicode=True, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    ).encode()
