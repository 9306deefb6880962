"""A client is a network: an IPv6 /64 counts as one client, an IPv4-mapped address as its IPv4.

For /outgoing's rate per client, its network blocklist, and the admin login lockout.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from clicktocall.models import BlockEntry, CallAttempt

from .contract import LINE, PLACED, THROTTLED, message

pytestmark = pytest.mark.django_db

PASSWORD = "a long and unguessable passphrase"


def ask(client, n: int, ip: str):
    return client.post("/outgoing", {"phone": f"+1617523{n:04d}", "campaign_line": LINE}, REMOTE_ADDR=ip)


@pytest.fixture
def five_a_minute(limits):
    limits.CLICKTOCALL_IP_RATE = "5/m"
    return limits


@pytest.mark.parametrize(
    ("ip", "key"),
    [
        ("198.51.100.9", "198.51.100.9"),
        ("::ffff:198.51.100.9", "198.51.100.9"),
        ("2001:db8:1:2::1", "2001:db8:1:2::"),
        ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::"),
        ("2001:db8:1:3::1", "2001:db8:1:3::"),
        ("", None),
        ("not an address", None),
    ],
)
def test_the_key_a_client_is_counted_under(ip, key):
    from clicktocall.clients import client_key

    assert client_key(ip) == key


def test_fifteen_addresses_of_one_ipv6_64_share_one_allowance(client, line, outbox, five_a_minute):
    answers = [message(ask(client, n, f"2001:db8:1:2::{n:x}")) for n in range(1, 16)]
    assert answers == [PLACED] * 5 + [THROTTLED] * 10
    assert len(outbox) == 5
    assert message(ask(client, 99, "2001:db8:1:3::1")) == PLACED  # the next /64 is another client
    # each attempt keeps the exact address it came from
    assert CallAttempt.objects.filter(client_ip="2001:db8:1:2::f", outcome="throttled").exists()


def test_the_ipv6_prefix_is_a_setting(client, line, outbox, five_a_minute, settings):
    settings.CLICKTOCALL_IPV6_PREFIX = 48
    answers = [message(ask(client, n, f"2001:db8:1:{n:x}::1")) for n in range(1, 7)]
    assert answers == [PLACED] * 5 + [THROTTLED]


def test_an_ipv4_mapped_address_is_its_ipv4_address(client, line, outbox, five_a_minute):
    answers = [message(ask(client, n, "198.51.100.9")) for n in range(3)]
    answers += [message(ask(client, n, "::ffff:198.51.100.9")) for n in range(3, 6)]
    assert answers == [PLACED] * 5 + [THROTTLED]
    assert set(CallAttempt.objects.values_list("client_ip", flat=True)) == {"198.51.100.9"}


@pytest.mark.parametrize(
    ("entry", "ip", "blocked"),
    [
        ("2001:db8:1:2::1", "2001:db8:1:2::abcd", True),  # an address blocks its /64
        ("2001:db8:1:2::/64", "2001:db8:1:2:aaaa::1", True),
        ("2001:db8:1::/48", "2001:db8:1:2::1", True),
        ("2001:db8:1:2::1", "2001:db8:1:3::1", False),
        ("198.51.100.9", "::ffff:198.51.100.9", True),
        ("::ffff:198.51.100.0/120", "198.51.100.9", True),
        ("198.51.100.9", "198.51.100.10", False),
    ],
)
def test_the_network_blocklist_matches_the_client_network(client, line, outbox, entry, ip, blocked):
    BlockEntry.objects.create(kind="network", value=entry)
    answer = message(ask(client, 1, ip))
    assert (answer != PLACED) is blocked
    assert CallAttempt.objects.get().outcome == ("blocked" if blocked else "placed")


def test_the_admin_lockout_counts_an_ipv6_64_as_one_client(client, settings):
    User.objects.create_superuser("staff", "staff@example.org", PASSWORD)
    settings.AXES_FAILURE_LIMIT = 3
    login = reverse("admin:login")
    for n in range(1, 4):  # guesses from three addresses of one /64
        client.post(login, {"username": "staff", "password": "wrong"}, REMOTE_ADDR=f"2001:db8:1:2::{n}")
    right = {"username": "staff", "password": PASSWORD, "next": "/admin/"}
    r = client.post(login, right, REMOTE_ADDR="2001:db8:1:2::99")
    assert r.status_code == 429
    assert "_auth_user_id" not in client.session
    r = client.post(login, right, REMOTE_ADDR="2001:db8:1:3::1")
    assert r.status_code == 302  # another /64 logs in


def test_the_admin_lockout_counts_a_mapped_address_as_its_ipv4(client, settings):
    User.objects.create_superuser("staff", "staff@example.org", PASSWORD)
    settings.AXES_FAILURE_LIMIT = 2
    login = reverse("admin:login")
    client.post(login, {"username": "staff", "password": "wrong"}, REMOTE_ADDR="198.51.100.9")
    client.post(login, {"username": "staff", "password": "wrong"}, REMOTE_ADDR="::ffff:198.51.100.9")
    r = client.post(login, {"username": "staff", "password": PASSWORD, "next": "/admin/"}, REMOTE_ADDR="198.51.100.9")
    assert r.status_code == 429
