"""Every limit and refusal of /outgoing: no call placed, the attempt recorded with its reason."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from clicktocall import blocklist
from clicktocall.models import BlockEntry, CallAttempt, CampaignLine

from .contract import LINE, PHONE


@pytest.fixture(autouse=True)
def _start_of_an_hour():
    """The rates count in fixed windows: each test starts at the beginning of an hour (the
    clock runs on from there), so that no window ends between its requests."""
    with time_machine.travel(datetime(2026, 6, 2, 14, 0, 1, tzinfo=UTC), tick=True):
        yield


pytestmark = pytest.mark.django_db

PLACED = {"error": False, "message": "The call's been placed."}
TOO_QUICKLY = {"error": True, "message": "Sorry, you're calling too quickly."}
ERROR = {"error": True, "message": "Sorry, there was an error."}
INVALID = {"error": True, "message": "Sorry, but you haven't provided any of the info we were expecting."}


def ask(client, phone=PHONE, line=LINE, ip="198.51.100.10", **extra):
    return client.post("/outgoing", {"phone": phone, "campaign_line": line}, REMOTE_ADDR=ip, **extra)


def phone_number(n: int) -> str:
    return f"+1617523{n:04d}"


def assert_refused(response, body, outcome, reason, outbox, calls_before):
    assert response.status_code == 400, response.content
    assert response.json() == body
    assert len(outbox) == calls_before, "a refused request placed a call"
    attempt = CallAttempt.objects.order_by("-pk").first()
    assert attempt.outcome == outcome
    assert reason in attempt.error_detail
    return attempt


# Cooldown


def test_cooldown_refuses_the_same_phone_on_the_same_line(client, line, outbox, limits):
    assert ask(client).json() == PLACED
    r = ask(client, phone="617.523.2338")  # another format of the same number
    attempt = assert_refused(r, TOO_QUICKLY, "throttled", "cooldown", outbox, 1)
    assert 170 <= int(r["Retry-After"]) <= 180
    assert attempt.phone == PHONE and attempt.client_ip == "198.51.100.10"
    assert list(CallAttempt.objects.order_by("pk").values_list("outcome", flat=True)) == ["placed", "throttled"]


def test_cooldown_is_per_line_and_per_phone(client, line, outbox, limits):
    other_line = CampaignLine.objects.create(phone_number="+18559299899")
    assert ask(client).json() == PLACED
    assert ask(client, phone=phone_number(1), ip="198.51.100.11").json() == PLACED
    assert ask(client, line=other_line.phone_number, ip="198.51.100.12").json() == PLACED
    assert len(outbox) == 3


def test_cooldown_ends(client, line, outbox, limits, monkeypatch, settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}  # to travel in time
    assert ask(client).json() == PLACED
    assert ask(client).json() == TOO_QUICKLY
    later = time.time() + 181
    monkeypatch.setattr(time, "time", lambda: later)
    assert ask(client).json() == PLACED
    assert len(outbox) == 2


def test_cooldown_per_line_override(client, line, outbox, limits):
    line.cooldown_seconds = 20
    line.save()
    assert ask(client).json() == PLACED
    r = ask(client)
    assert r.json() == TOO_QUICKLY and 1 <= int(r["Retry-After"]) <= 20
    line.cooldown_seconds = 0  # no cooldown on this line
    line.save()
    assert ask(client).json() == PLACED
    assert len(outbox) == 2


def test_cooldown_setting(client, line, outbox, limits, settings):
    settings.CLICKTOCALL_COOLDOWN_SECONDS = 45
    assert ask(client).json() == PLACED
    r = ask(client)
    assert_refused(r, TOO_QUICKLY, "throttled", "within 45 s", outbox, 1)
    assert 40 <= int(r["Retry-After"]) <= 45


# Rate per client address


def test_rate_per_client_address(client, line, outbox, limits):
    assert limits.CLICKTOCALL_IP_RATE == "10/m,60/h,200/d"  # the default
    for n in range(10):
        assert ask(client, phone=phone_number(n)).json() == PLACED
    r = ask(client, phone=phone_number(99))
    assert_refused(r, TOO_QUICKLY, "throttled", "rate limit: client address (10/m,60/h,200/d)", outbox, 10)
    assert 1 <= int(r["Retry-After"]) <= 60
    assert ask(client, phone=phone_number(99), ip="198.51.100.99").json() == PLACED  # another address


def test_rate_per_client_address_setting(client, line, outbox, limits, settings):
    settings.CLICKTOCALL_IP_RATE = "2/h"
    assert ask(client, phone=phone_number(1)).json() == PLACED
    assert ask(client, phone=phone_number(2)).json() == PLACED
    r = ask(client, phone=phone_number(3))
    assert_refused(r, TOO_QUICKLY, "throttled", "client address (2/h)", outbox, 2)
    assert 60 < int(r["Retry-After"]) <= 3600


def test_a_forged_forwarded_for_does_not_escape_the_rate(client, line, outbox, limits, settings):
    """Without trusted proxies, X-Forwarded-For is the client's own text and is ignored."""
    settings.CLICKTOCALL_TRUSTED_PROXIES = 0
    settings.CLICKTOCALL_IP_RATE = "5/m"
    for n in range(5):
        r = ask(client, phone=phone_number(n), HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")
        assert r.json() == PLACED
    r = ask(client, phone=phone_number(8), HTTP_X_FORWARDED_FOR="192.0.2.200")
    attempt = assert_refused(r, TOO_QUICKLY, "throttled", "client address", outbox, 5)
    assert attempt.client_ip == "198.51.100.10"


def test_trusted_proxy_gives_the_client_address(client, line, outbox, limits, settings):
    """Behind one proxy, the client is the proxy's last entry; entries the client wrote are ignored."""
    settings.CLICKTOCALL_TRUSTED_PROXIES = 1
    settings.CLICKTOCALL_IP_RATE = "5/m"
    for n in range(5):
        forged = f"10.9.9.{n}, 203.0.113.5"  # the client forged the first entry, the proxy added the second
        assert ask(client, phone=phone_number(n), ip="10.0.0.1", HTTP_X_FORWARDED_FOR=forged).json() == PLACED
    assert set(CallAttempt.objects.values_list("client_ip", flat=True)) == {"203.0.113.5"}
    r = ask(client, phone=phone_number(7), ip="10.0.0.1", HTTP_X_FORWARDED_FOR="10.9.9.77, 203.0.113.5")
    assert_refused(r, TOO_QUICKLY, "throttled", "client address", outbox, 5)
    # another client behind the same proxy has its own count
    assert ask(client, phone=phone_number(7), ip="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.6").json() == PLACED


# Rate per number across lines


def test_rate_per_phone_across_lines(client, outbox, limits, settings, db):
    settings.CLICKTOCALL_PHONE_RATE = "2/h"
    lines = [CampaignLine.objects.create(phone_number=f"+1855929989{n}") for n in range(3)]
    assert ask(client, line=lines[0].phone_number, ip="198.51.100.1").json() == PLACED
    assert ask(client, line=lines[1].phone_number, ip="198.51.100.2").json() == PLACED
    r = ask(client, line=lines[2].phone_number, ip="198.51.100.3")
    assert_refused(r, TOO_QUICKLY, "throttled", "the number across lines (2/h)", outbox, 2)
    assert int(r["Retry-After"]) > 0


def test_default_phone_rate_is_a_few_calls_a_day(client, outbox, limits, db, monkeypatch):
    lines = [CampaignLine.objects.create(phone_number=f"+185592998{n:02d}") for n in range(8)]
    results = [ask(client, line=line.phone_number, ip=f"198.51.100.{n}").json() for n, line in enumerate(lines)]
    assert results == [PLACED] * 6 + [TOO_QUICKLY] * 2
    assert len(outbox) == 6


# Daily cap per line


def test_daily_cap_per_line_override(client, line, outbox, limits):
    line.daily_cap = 2
    line.save()
    assert ask(client, phone=phone_number(1), ip="198.51.100.1").json() == PLACED
    assert ask(client, phone=phone_number(2), ip="198.51.100.2").json() == PLACED
    r = ask(client, phone=phone_number(3), ip="198.51.100.3")
    assert_refused(r, TOO_QUICKLY, "throttled", "daily cap", outbox, 2)
    tomorrow = (timezone.localtime() + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    assert abs(int(r["Retry-After"]) - (tomorrow - timezone.localtime()).total_seconds()) <= 2
    # the refused number took no cooldown: with the cap raised it is called at once
    line.daily_cap = 3
    line.save()
    assert ask(client, phone=phone_number(3), ip="198.51.100.3").json() == PLACED


def test_daily_cap_setting(client, line, outbox, limits, settings):
    settings.CLICKTOCALL_DAILY_CAP = 1
    assert ask(client, phone=phone_number(1), ip="198.51.100.1").json() == PLACED
    r = ask(client, phone=phone_number(2), ip="198.51.100.2")
    assert_refused(r, TOO_QUICKLY, "throttled", "placed its 1 calls today", outbox, 1)


def test_rate_limit_answers_jsonp_with_retry_after(client, line, outbox, limits):
    assert ask(client).json() == PLACED
    r = client.get("/outgoing", {"phone": PHONE, "campaign_line": LINE, "callback": "cb"}, REMOTE_ADDR="198.51.100.10")
    assert r.status_code == 200 and r["Retry-After"]
    assert r.content.decode() == '/**/cb({"error":true,"message":"Sorry, you\'re calling too quickly."});'
    assert len(outbox) == 1


# Blocklist


def test_blocked_phone(client, line, outbox):
    entry = BlockEntry.objects.create(kind="phone", value=PHONE, reason="abuse")
    r = ask(client)
    assert_refused(r, ERROR, "blocked", "number is blocked", outbox, 0)
    entry.refresh_from_db()
    assert entry.hit_count == 1 and entry.last_hit_at is not None
    ask(client)
    entry.refresh_from_db()
    assert entry.hit_count == 2


def test_expired_phone_entry_is_ignored(client, line, outbox):
    BlockEntry.objects.create(kind="phone", value=PHONE, expires_at=timezone.now() - timedelta(minutes=1))
    assert ask(client).json() == PLACED
    assert BlockEntry.objects.get().hit_count == 0


def test_phone_entry_until_a_future_date_blocks(client, line, outbox):
    BlockEntry.objects.create(kind="phone", value=PHONE, expires_at=timezone.now() + timedelta(days=1))
    assert_refused(ask(client), ERROR, "blocked", "blocklist", outbox, 0)


def test_opt_out_blocks_the_number(client, line, outbox):
    blocklist.add_opt_out(PHONE, note="pressed 9")
    assert_refused(ask(client), ERROR, "blocked", "number is blocked", outbox, 0)
    assert BlockEntry.objects.get().reason == "opt-out"


def test_opt_out_keeps_what_staff_wrote_and_lifts_the_expiry(client, line, outbox):
    soon = timezone.now() + timedelta(hours=1)
    BlockEntry.objects.create(
        kind="phone", value=PHONE, reason="abuse", note="called the office 40 times", expires_at=soon
    )
    entry = blocklist.add_opt_out(PHONE, note="pressed 9")
    entry.refresh_from_db()
    assert (entry.reason, entry.expires_at, entry.note) == ("opt-out", None, "called the office 40 times\npressed 9")
    blocklist.add_opt_out(PHONE, note="pressed 9")
    assert BlockEntry.objects.get().note == "called the office 40 times\npressed 9"
    assert_refused(ask(client), ERROR, "blocked", "number is blocked", outbox, 0)


@pytest.mark.parametrize(
    ("network", "ip"),
    [
        ("203.0.113.0/24", "203.0.113.7"),
        ("203.0.113.7/32", "203.0.113.7"),
        ("2001:db8::/32", "2001:db8::1"),
        ("203.0.113.0/24", "::ffff:203.0.113.9"),
    ],
)
def test_blocked_network(client, line, outbox, network, ip):
    entry = BlockEntry.objects.create(kind="network", value=network)
    r = ask(client, ip=ip)
    assert_refused(r, ERROR, "blocked", "is blocked", outbox, 0)
    entry.refresh_from_db()
    assert entry.hit_count == 1
    assert ask(client, ip="198.51.100.10").json() == PLACED  # another address is not blocked


def test_blocked_network_through_trusted_proxy(client, line, outbox, settings):
    settings.CLICKTOCALL_TRUSTED_PROXIES = 1
    BlockEntry.objects.create(kind="network", value="203.0.113.0/24")
    r = ask(client, ip="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.50")
    assert_refused(r, ERROR, "blocked", "203.0.113.50", outbox, 0)
    # a blocked client cannot hide behind a forged first entry
    r = ask(client, ip="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.1, 203.0.113.50")
    assert_refused(r, ERROR, "blocked", "203.0.113.50", outbox, 0)


def test_network_entries_take_effect_at_once(client, line, outbox):
    assert ask(client, ip="203.0.113.7").json() == PLACED  # the cached list is now empty
    entry = BlockEntry.objects.create(kind="network", value="203.0.113.0/24")
    assert_refused(ask(client, ip="203.0.113.7"), ERROR, "blocked", "blocked", outbox, 1)
    entry.expires_at = timezone.now() - timedelta(seconds=1)
    entry.save()
    assert ask(client, ip="203.0.113.7").json() == PLACED
    entry.expires_at = None
    entry.save()
    assert ask(client, ip="203.0.113.7").json() == ERROR
    entry.delete()
    assert ask(client, ip="203.0.113.7").json() == PLACED
    assert len(outbox) == 3


def test_network_entry_expiring_while_cached_is_ignored(client, line, outbox, monkeypatch):
    BlockEntry.objects.create(kind="network", value="203.0.113.0/24", expires_at=timezone.now() + timedelta(seconds=30))
    assert ask(client, ip="203.0.113.7").json() == ERROR
    later = time.time() + 31
    monkeypatch.setattr(time, "time", lambda: later)
    assert ask(client, ip="203.0.113.7").json() == PLACED


def test_blocklist_comes_before_the_rate_limits(client, line, outbox, limits):
    """A blocked number spends nobody's cooldown: the blocklist is checked first."""
    BlockEntry.objects.create(kind="phone", value=PHONE)
    assert ask(client).json() == ERROR
    BlockEntry.objects.all().delete()
    assert ask(client).json() == PLACED


# Destinations: the toll-fraud guard


@pytest.mark.parametrize(
    ("number", "kind"),
    [
        ("+19002345678", "premium-rate"),
        ("+18002345678", "toll-free"),
        ("+15002345678", "personal-number"),
    ],
)
def test_non_personal_numbers_are_a_format_error(client, line, outbox, number, kind):
    r = ask(client, phone=number)
    attempt = assert_refused(r, INVALID, "invalid", kind, outbox, 0)
    assert attempt.phone == number


@pytest.mark.parametrize(
    ("number", "kind"),
    [
        ("+449012345678", "premium-rate"),
        ("+33884012345", "shared-cost"),
        ("+445512345678", "uan"),
        ("+447012345678", "personal-number"),
        ("+447640123456", "pager"),
    ],
)
def test_non_personal_numbers_abroad_are_refused_even_when_the_country_is_allowed(client, line, outbox, number, kind):
    line.allowed_countries = "GB, FR"
    line.save()
    assert_refused(ask(client, phone=number), INVALID, "invalid", kind, outbox, 0)


def test_destination_defaults_to_the_lines_own_country(client, line, outbox):
    r = ask(client, phone="+447400123456")  # a UK mobile, a US line
    assert_refused(r, INVALID, "invalid", "destination country GB not allowed (allowed: US)", outbox, 0)
    r = ask(client, phone="+15062345678")  # Canada shares +1 but is another country
    assert_refused(r, INVALID, "invalid", "destination country CA not allowed", outbox, 0)


def test_line_allowed_countries(client, line, outbox):
    line.allowed_countries = "us, gb"
    line.save()
    assert ask(client, phone="+447400123456").json() == PLACED
    assert ask(client, phone="+15062345678").json() == INVALID
    assert [c.to for c in outbox] == ["+447400123456"]


def test_allowed_countries_setting(client, line, outbox, settings):
    settings.CLICKTOCALL_ALLOWED_COUNTRIES = ["CA"]
    assert ask(client, phone="+15062345678").json() == PLACED
    assert ask(client).json() == INVALID  # the setting replaces the line's own country
    line.allowed_countries = "US"  # the line's own list wins over the setting
    line.save()
    assert ask(client).json() == PLACED


# The cost of an accepted request


def test_accepted_request_costs_three_queries(client, line, outbox, limits, settings, django_assert_max_num_queries):
    settings.CLICKTOCALL_LIMIT_STORE = "cache"  # as with Redis: the limits cost no query
    BlockEntry.objects.create(kind="phone", value="+16175230000")
    BlockEntry.objects.create(kind="network", value="192.0.2.0/24")
    assert ask(client, phone=phone_number(1)).json() == PLACED  # reads the network list into the cache
    with django_assert_max_num_queries(3):
        assert ask(client).json() == PLACED
    assert len(outbox) == 2


def test_requests_without_a_usable_address_share_one_allowance(client, line, outbox, limits, settings):
    settings.CLICKTOCALL_TRUSTED_PROXIES = 1
    settings.CLICKTOCALL_IP_RATE = "5/m"
    for n in range(5):  # the proxy passed something that is no address
        assert ask(client, phone=phone_number(n), ip="10.0.0.1", HTTP_X_FORWARDED_FOR=f"unknown{n}").json() == PLACED
    assert CallAttempt.objects.filter(client_ip__isnull=True).count() == 5
    r = ask(client, phone=phone_number(9), ip="10.0.0.1", HTTP_X_FORWARDED_FOR="garbage")
    assert_refused(r, TOO_QUICKLY, "throttled", "client address", outbox, 5)


@pytest.mark.parametrize(
    ("trusted", "remote", "forwarded", "expected"),
    [
        (0, "198.51.100.1", "203.0.113.9", "198.51.100.1"),
        (1, "10.0.0.1", "203.0.113.9", "203.0.113.9"),
        (1, "10.0.0.1", "6.6.6.6, 203.0.113.9", "203.0.113.9"),
        (2, "10.0.0.1", "6.6.6.6, 203.0.113.9, 10.0.0.2", "203.0.113.9"),
        (1, "10.0.0.1", "[2001:db8::5]:4711", "2001:db8::5"),
        (1, "10.0.0.1", "203.0.113.9:4711", "203.0.113.9"),
        (1, "10.0.0.1", "", "10.0.0.1"),
        (0, "", "", None),
    ],
)
def test_client_address_through_trusted_proxies(rf, settings, trusted, remote, forwarded, expected):
    from clicktocall.clients import client_ip

    settings.CLICKTOCALL_TRUSTED_PROXIES = trusted
    request = rf.get("/outgoing", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


def test_a_provider_failure_ends_the_cooldown(client, line, outbox, failures, limits):
    from clicktocall.exceptions import TelephonyError

    failures.append(TelephonyError("provider unreachable", transient=True))
    assert ask(client).json() == ERROR
    assert CallAttempt.objects.get().outcome == "error"
    assert ask(client).json() == PLACED  # the person tries again at once and is called
    assert ask(client).json() == TOO_QUICKLY  # and now the cooldown holds
    assert len(outbox) == 1


@pytest.mark.parametrize("placement", ["direct", "queued"])
def test_a_blocked_number_is_refused_by_its_insert_and_spends_no_limit(
    limits, settings, client, line, outbox, placement
):
    from django_tasks_db.models import DBTaskResult

    from .contract import VALID, message

    settings.CLICKTOCALL_PLACEMENT = placement
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    entry = blocklist.add_opt_out("+16175232338")
    for _ in range(6):  # more than the address's 5 a minute: a refused blocked request counts nowhere
        r = client.post("/outgoing", VALID, HTTP_ACCEPT="application/json", REMOTE_ADDR="198.51.100.20")
        assert message(r) == "Sorry, there was an error."
    attempts = CallAttempt.objects.all()
    assert {a.outcome for a in attempts} == {"blocked"} and attempts.count() == 6
    assert {a.error_detail for a in attempts} == {"blocklist: the number is blocked"}
    assert BlockEntry.objects.get(pk=entry.pk).hit_count == 6 and outbox == [] and DBTaskResult.objects.count() == 0
    entry.delete()
    r = client.post("/outgoing", VALID, HTTP_ACCEPT="application/json", REMOTE_ADDR="198.51.100.20")
    assert message(r) == "The call's been placed."  # no cooldown held, no rate spent
