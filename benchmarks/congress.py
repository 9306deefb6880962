"""US Congress targets benchmark: loading the data, the look-up per webhook, and /outgoing's cost.

    python -m benchmarks.congress [--repeat 200]

Prints, in one run: the time to check and load the shipped release (tens of thousands
of ZIP rows, bulk inserts in one transaction); the median time and SQL queries of one
look-up (what each webhook of a call does) for a line's own targets and for members of
Congress from a one-district, a split and a cross-state ZIP code, with the ratio to the
line's own targets; and the median time and SQL queries of an accepted ``/outgoing``
request on a line with its own targets and on one that calls members of Congress (the
look-up happens when the call is answered, so the two should cost the same).
"""

from __future__ import annotations

import argparse
import itertools
import time

from .common import LINE, environment, median, setup_django, table

LOCATIONS = [
    ("line's own targets (2)", None),
    ("Congress, one district (02113)", "02113"),
    ("Congress, split ZIP (01346)", "01346"),
    ("Congress, across states (02861)", "02861"),
    ("Congress, unknown ZIP (00000)", "00000"),
]
_numbers = itertools.count()


def _phone() -> str:
    n = next(_numbers)
    return f"617{600 + (n // 10000) % 300:03d}{n % 10000:04d}"


def lines():
    from clicktocall.models import CampaignLine, Target

    custom, _ = CampaignLine.objects.update_or_create(
        phone_number=LINE, defaults={"name": "Benchmark", "target_source": "custom"}
    )
    if not custom.targets.exists():
        Target.objects.create(line=custom, position=0, name="Office A", phone_number="+12025550100")
        Target.objects.create(line=custom, position=1, name="Office B", phone_number="+12025550101")
    congress, _ = CampaignLine.objects.update_or_create(
        phone_number="+18559299899", defaults={"name": "Benchmark Congress", "target_source": "us-congress"}
    )
    return custom, congress


def _post(client, number: str) -> None:
    response = client.post("/outgoing/", {"phone": _phone(), "campaign_line": number, "zip": "02113"})
    assert response.status_code == 200, response.content


def timed(function, repeat: int) -> tuple[float, int]:
    """The median milliseconds of ``function`` (the first run when ``repeat`` is 0) and its SQL queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    start = time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        function()
    times = [(time.perf_counter() - start) * 1000]
    count = len(queries)
    if repeat:
        times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append((time.perf_counter() - start) * 1000)
    return median(times), count


def run(repeat: int) -> dict[str, list[list[object]]]:
    from django.test import Client
    from django.test.utils import override_settings

    from clicktocall import targets
    from clicktocall.targets.us_congress import loader

    start = time.perf_counter()
    dataset, _ = loader.load(loader.PACKAGE_DATA)
    load_seconds = time.perf_counter() - start
    from clicktocall.models import CongressMember, CongressOffice, ZipDistrict

    loading = [
        [
            dataset.version,
            ZipDistrict.objects.count(),
            CongressMember.objects.count(),
            CongressOffice.objects.count(),
            f"{load_seconds:.2f}",
        ]
    ]

    custom, congress = lines()
    lookups = []
    base = None
    for name, zip_code in LOCATIONS:
        line = custom if zip_code is None else congress
        variables = {} if zip_code is None else {"zip": zip_code}
        ms, queries = timed(lambda line=line, variables=variables: targets.resolve(line, variables, seed="x"), repeat)
        base = base or ms
        found = len(targets.resolve(line, variables).targets)
        lookups.append([name, found, queries, f"{ms:.3f}", f"{ms / base:.2f}×"])

    # No limits; a backend that places calls without describing them, as Twilio does (the
    # console backend writes each call's transcript, which looks the targets up at placement).
    unlimited = override_settings(
        CLICKTOCALL_COOLDOWN_SECONDS=0,
        CLICKTOCALL_IP_RATE="",
        CLICKTOCALL_PHONE_RATE="",
        CLICKTOCALL_DAILY_CAP=0,
        CLICKTOCALL_TELEPHONY_BACKEND="locmem",
    )
    client = Client(HTTP_HOST="127.0.0.1")
    kinds = [("line's own targets", custom.phone_number), ("US Congress", congress.phone_number)]
    times: dict[str, list[float]] = {name: [] for name, _ in kinds}
    queries: dict[str, int] = {}
    with unlimited:
        for _ in range(max(2, repeat // 4)):  # interleaved, so that both see the same machine
            for name, number in kinds:
                ms, queries[name] = timed(lambda number=number: _post(client, number), 0)
                times[name].append(ms)
    base = median(times[kinds[0][0]])
    requests = [
        [
            f"/outgoing accepted, {name}",
            queries[name],
            f"{median(times[name]):.2f}",
            f"{median(times[name]) / base:.2f}×",
        ]
        for name, _ in kinds
    ]
    return {"loading": loading, "lookups": lookups, "requests": requests}


def render(results: dict[str, list[list[object]]]) -> str:
    return "\n\n".join(
        [
            table(["dataset loaded", "ZIP rows", "members", "offices", "seconds"], results["loading"]),
            table(["look-up (one webhook)", "targets", "queries", "median ms", "vs own targets"], results["lookups"]),
            table(["request", "queries", "median ms", "vs own targets"], results["requests"]),
        ]
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=200, help="timed runs of each look-up (median shown)")
    args = parser.parse_args(argv)
    env = environment()
    setup_django(env)
    import logging

    logging.disable(logging.WARNING)
    print(f"database {env['DATABASE_URL']}")
    print(render(run(args.repeat)))


if __name__ == "__main__":
    main()
